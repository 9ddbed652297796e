"""Back-office groups and what they may do (R-BO-1, R-BO-3).

Kept in step with the code after every ``migrate`` and by ``manage.py setup_groups``: the
groups' permissions are exactly the ones listed here.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

AGENT = "Agent ASP"
SUPPORT = "Support"

GROUP_PERMISSIONS: dict[str, list[str]] = {
    # Agents instruct the requests: they see them, open their documents, decide, re-send a
    # failed mail, keep the ANS registry, the FAQ and the support requests up to date.
    AGENT: [
        "enrolment.view_enrolmentrequest",
        "enrolment.validate_enrolmentrequest",
        "enrolment.reject_enrolmentrequest",
        "enrolment.lookup_enrolmentrequest",
        "enrolment.view_enrolmentdocument",
        "enrolment.download_enrolmentdocument",
        "enrolment.view_statuschange",
        # Modifications ENR…Mn and « A compléter » rounds (R-AFT-1, R-AFT-2).
        "enrolment.view_enrolmentversion",
        "enrolment.view_correctionround",
        "enrolment.view_referencedsoftware",
        "enrolment.add_referencedsoftware",
        "enrolment.change_referencedsoftware",
        "notifications.view_outboundemail",
        "notifications.resend_outboundemail",
        "public.view_faqentry",
        "public.add_faqentry",
        "public.change_faqentry",
        "public.delete_faqentry",
        "public.view_supportrequest",
        "public.change_supportrequest",
        "portal.view_news",
        "portal.add_news",
        "portal.change_news",
        "portal.delete_news",
        "accounts.view_user",
        "accounts.unlock_user",
        # Funding requests (R-FIN-7): instruct and decide, open the pieces, keep the windows.
        "funding.view_fundingrequest",
        "funding.decide_fundingrequest",
        "funding.lookup_fundingrequest",
        "funding.download_fundingdocument",
        "funding.view_fundingwindow",
        "funding.add_fundingwindow",
        "funding.change_fundingwindow",
        "funding.delete_fundingwindow",
        # Agents at scale (R-OPS-4): the audit trail, read and exported.
        "audit.view_auditentry",
        "audit.export_auditentry",
        # Consistency flags (R-OPS-3): seen on the requests, marked « vérifié » with a comment.
        "flags.view_consistencyflag",
        "flags.verify_consistencyflag",
        # Exports of the filtered lists (R-OPS-1), IBAN masked; « export_full_iban » is given to
        # named agents only, never to the group.
        "exports.export_lists",
        "exports.view_exportrecord",
    ],
    # Support staff look a request up by its ENR number, answer the contact form and unlock a
    # vendor locked out after failed sign-ins: no detail page (full IBAN), no documents, no
    # decision.
    SUPPORT: [
        "enrolment.lookup_enrolmentrequest",
        # A funding request's status and history by its FIN number, never its pieces.
        "funding.lookup_fundingrequest",
        "public.view_faqentry",
        "public.view_supportrequest",
        "public.change_supportrequest",
        "accounts.view_user",
        "accounts.unlock_user",
    ],
}


def sync_groups() -> dict[str, int]:
    """Create the groups and set their permissions to exactly the listed ones."""
    counts = {}
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts


def after_migrate(sender, using="default", apps=global_apps, **kwargs) -> None:
    if sender.name != "accounts":
        return
    # post_migrate reaches the apps one by one: make sure every app's permissions exist first.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_groups()
