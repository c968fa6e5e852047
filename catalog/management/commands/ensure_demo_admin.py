import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo's admin account once, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        # The password is made once and kept beside the SQLite file, so every start prints the
        # same working credentials without a password ever living in the repository.
        secret_file = settings.VAR_DIR / "demo-admin-password"
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None or not secret_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(username, f"{username}@localhost")
            user.set_password(password)
            user.save()
            secret_file.write_text(password)
            secret_file.chmod(0o600)
        password = secret_file.read_text().strip()
        self.stdout.write(f"  Admin login:                 {username} / {password}")
