import sys

from django.core.management.base import BaseCommand, CommandError

from ledger.models import Checkpoint
from ledger.selectors import export_lines
from ledger.services import ledger_checkpoint_create
from ledger.verification import ledger_verify


class Command(BaseCommand):
    help = "Verify, export or checkpoint the price ledger."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        verify = commands.add_parser(
            "verify", help="Re-hash the whole chain and check every checkpoint."
        )
        verify.add_argument(
            "--from-checkpoint",
            type=int,
            metavar="TREE_SIZE",
            help="Start at the signed checkpoint of this size instead of the first entry.",
        )
        verify.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="Worker processes on PostgreSQL (default: one per CPU for a large ledger; "
            "1 checks in this process). The result is the same either way.",
        )
        export = commands.add_parser("export", help="Write entries and checkpoints as JSON Lines.")
        export.add_argument("--output", "-o", help="File to write (default: standard output).")
        commands.add_parser("checkpoint", help="Sign a checkpoint of the tree as it stands.")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_verify(self, from_checkpoint=None, workers=None, **options):
        start = None
        if from_checkpoint is not None:
            start = Checkpoint.objects.filter(tree_size=from_checkpoint).first()
            if start is None:
                raise CommandError(f"No checkpoint at tree size {from_checkpoint}.")
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1.")
        report = ledger_verify(from_checkpoint=start, workers=workers)
        if not report.ok:
            self.stderr.write(
                f"Ledger BROKEN at seq {report.problem.seq}: {report.problem.reason}: "
                f"{report.problem.message}"
            )
            sys.exit(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger intact: {report.entries_checked} entries and "
                f"{report.checkpoints_checked} checkpoints verified (last seq {report.last_seq})."
            )
        )

    def handle_export(self, output=None, **options):
        stream = open(output, "w", encoding="utf-8") if output else self.stdout  # noqa: SIM115
        count = 0
        try:
            for line in export_lines():
                stream.write(line + "\n")
                count += 1
        finally:
            if output:
                stream.close()
        if output:
            self.stdout.write(f"Wrote {count} lines to {output}.")

    def handle_checkpoint(self, **options):
        checkpoint = ledger_checkpoint_create()
        self.stdout.write(
            f"Checkpoint at tree size {checkpoint.tree_size}, root {checkpoint.root_hash}."
        )
