from django.urls import path, re_path

from enrolment import amendment_views, views

app_name = "enrolment"

wizard = views.EnrolmentWizard.as_view(url_name="enrolment:step", done_step_name="termine")

urlpatterns = [
    path("", wizard, name="start"),
    path("quitter/", views.quit_wizard, name="quit"),
    path("confirmation/", views.confirmation, name="done"),
    # R-AFT-1: the mailed link of a request « A compléter ».
    path("completer/envoyee/", amendment_views.complete_done, name="complete_done"),
    path("completer/<str:token>/", amendment_views.complete, name="complete"),
    path("modeles/<slug:name>/", views.model_document, name="model_document"),
    path("captcha/<str:key>/audio.wav", views.captcha_audio, name="captcha_audio"),
    re_path(r"^demande/(?P<step>[a-z_]+)/$", wizard, name="step"),
]
