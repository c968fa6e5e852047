"""History is shown in the admin and refused at the database, whoever asks."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from ledger.models import Checkpoint, LedgerEntry, MerkleNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, admin_user):
    client.force_login(admin_user)
    return client


def entry_state() -> list[tuple]:
    return list(LedgerEntry.objects.order_by("pk").values_list())


def test_a_superuser_sees_the_entries_but_no_add_button(superuser_client, ledger):
    response = superuser_client.get(reverse("admin:ledger_ledgerentry_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    latest = LedgerEntry.objects.get(seq=20)
    assert f"<code>{latest.entry_hash[:16]}…</code>" in page
    assert reverse("admin:ledger_ledgerentry_add") not in page
    assert 'name="action"' not in page  # no bulk "delete selected"


def test_an_entry_page_shows_its_fields_read_only_to_a_superuser(superuser_client, ledger):
    entry = LedgerEntry.objects.get(seq=5)

    response = superuser_client.get(reverse("admin:ledger_ledgerentry_change", args=[entry.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert entry.entry_hash in page
    assert 'name="payload"' not in page
    assert 'name="_save"' not in page
    assert reverse("admin:ledger_ledgerentry_delete", args=[entry.pk]) not in page


def test_posting_a_changed_entry_as_a_superuser_is_refused_and_changes_nothing(
    superuser_client, ledger
):
    entry = LedgerEntry.objects.get(seq=5)
    before = entry_state()

    response = superuser_client.post(
        reverse("admin:ledger_ledgerentry_change", args=[entry.pk]),
        {"payload": '{"price":"1.00"}', "seq": "5", "kind": "observation", "_save": "Save"},
    )

    assert response.status_code == 403
    assert entry_state() == before


def test_deleting_an_entry_through_the_admin_is_forbidden_to_a_superuser(superuser_client, ledger):
    entry = LedgerEntry.objects.get(seq=5)
    url = reverse("admin:ledger_ledgerentry_delete", args=[entry.pk])

    assert superuser_client.get(url).status_code == 403
    assert superuser_client.post(url, {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.count() == 20


def test_the_bulk_delete_action_is_not_offered_for_entries(superuser_client, ledger):
    ids = list(LedgerEntry.objects.values_list("pk", flat=True)[:3])

    superuser_client.post(
        reverse("admin:ledger_ledgerentry_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert LedgerEntry.objects.count() == 20


def test_adding_an_entry_through_the_admin_is_forbidden_to_a_superuser(superuser_client, ledger):
    url = reverse("admin:ledger_ledgerentry_add")

    assert superuser_client.get(url).status_code == 403
    response = superuser_client.post(url, {"seq": "21", "kind": "observation", "payload": "{}"})
    assert response.status_code == 403
    assert LedgerEntry.objects.count() == 20


def test_checkpoints_are_read_only_in_the_admin_too(superuser_client, ledger):
    checkpoint = Checkpoint.objects.get(tree_size=15)
    change = reverse("admin:ledger_checkpoint_change", args=[checkpoint.pk])

    assert superuser_client.get(change).status_code == 200
    assert superuser_client.post(change, {"root_hash": "0" * 64}).status_code == 403
    delete = reverse("admin:ledger_checkpoint_delete", args=[checkpoint.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert superuser_client.get(reverse("admin:ledger_checkpoint_add")).status_code == 403
    checkpoint.refresh_from_db()
    assert checkpoint.root_hash != "0" * 64
    assert Checkpoint.objects.count() == 2


# --- PostgreSQL: the trigger from migration 0002 ------------------------------------------------

REFUSED_STATEMENTS = [
    pytest.param(
        'UPDATE ledger_ledgerentry SET payload = \'{"price":"1.00"}\' WHERE seq = 3',
        "UPDATE on ledger_ledgerentry",
        id="update-entry",
    ),
    pytest.param(
        "DELETE FROM ledger_ledgerentry WHERE seq = 20",
        "DELETE on ledger_ledgerentry",
        id="delete-entry",
    ),
    pytest.param(
        "UPDATE ledger_merklenode SET hash = '\\x00'::bytea WHERE level = 0 AND index = 2",
        "UPDATE on ledger_merklenode",
        id="update-node",
    ),
    pytest.param(
        "DELETE FROM ledger_merklenode",
        "DELETE on ledger_merklenode",
        id="delete-nodes",
    ),
    pytest.param(
        "UPDATE ledger_checkpoint SET root_hash = repeat('0', 64)",
        "UPDATE on ledger_checkpoint",
        id="update-checkpoint",
    ),
    pytest.param(
        "DELETE FROM ledger_checkpoint WHERE tree_size = 15",
        "DELETE on ledger_checkpoint",
        id="delete-checkpoint",
    ),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("sql", "message"), REFUSED_STATEMENTS)
def test_postgresql_refuses_a_raw_update_or_delete_of_history(ledger, sql, message):
    before = entry_state()
    nodes = sorted(MerkleNode.objects.values_list("level", "index", "hash"))

    refused = f"the ledger is append-only: {message} is refused"
    with (
        pytest.raises(DatabaseError, match=refused),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert entry_state() == before
    assert sorted(MerkleNode.objects.values_list("level", "index", "hash")) == nodes
    assert Checkpoint.objects.count() == 2


@pytest.mark.postgres
def test_postgresql_refuses_orm_updates_and_deletes_of_entries(ledger):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(seq=3).update(subject="listing:99")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.get(seq=20).delete()

    assert LedgerEntry.objects.get(seq=3).subject != "listing:99"
    assert LedgerEntry.objects.count() == 20
