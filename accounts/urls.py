from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("connexion/identifiant-oublie/", views.forgot_identifiant, name="forgot_identifiant"),
    path("connexion/mot-de-passe-oublie/", views.forgot_password, name="forgot_password"),
    path("connexion/demande-envoyee/", views.recovery_sent, name="recovery_sent"),
    path("connexion/reinitialisation/<uidb64>/question/", views.reset_question, name="reset_question"),
    path("connexion/reinitialisation/<uidb64>/nouveau-mot-de-passe/", views.reset_password, name="reset_password"),
    # After the two fixed pages, or « question » would be read as a token.
    path("connexion/reinitialisation/<uidb64>/<token>/", views.reset_link, name="reset_link"),
    path("espace/changement-mot-de-passe/", views.password_change, name="password_change"),
    path("espace/question-secrete/", views.secret_question, name="secret_question"),
]
