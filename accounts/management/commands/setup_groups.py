from django.core.management.base import BaseCommand

from accounts.groups import sync_groups


class Command(BaseCommand):
    help = "Crée les groupes « Agent ASP » et « Support » et leur donne exactement leurs permissions."

    def handle(self, *args, **options):
        for name, count in sync_groups().items():
            self.stdout.write(f"{name} : {count} permissions")
