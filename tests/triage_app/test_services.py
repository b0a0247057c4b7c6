import threading
import time

import pytest
from django.db import connection

from tests.triage_app.factories import complaint_make, score_make
from triage_app import errors, services
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import AuditLog, Complaint, EscalationPolicy, Experiment, OutboxEntry, Score

pytestmark = pytest.mark.django_db

POLICY = {"escalate_at": 60, "negative_compound": -0.75, "weight_sentiment": 0.6, "weight_severity": 0.3,
          "weight_category": 0.1}

# Migrations seed policy and experiment versions 1 (vader) and 2 (triage 2.0, vader in shadow).
SEEDED_VERSIONS = 2


def test_submit_writes_complaint_event_and_outbox_together():
    complaint = services.complaint_submit(text="Charged twice for one order", email="a@b.co", source="web")
    assert complaint.status == "received" and complaint.created_at is not None
    entry = OutboxEntry.objects.get(complaint=complaint)
    assert entry.key == str(complaint.id) and entry.published_at is None
    assert list(complaint.events.values_list("kind", "public")) == [("received", True)]


def test_submit_rolled_back_publishes_nothing(fake_producer, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.complaint_submit(text="This write is rolled back", email=None, source="api")
                raise RuntimeError
    assert callbacks == [] and fake_producer.delivered == []
    assert not Complaint.objects.exists()


def test_claim_release_and_resolve_rules(staff_user, other_staff):
    complaint = complaint_make()
    score_make(complaint=complaint)
    services.complaint_claim(complaint_id=complaint.id, by=staff_user)
    services.complaint_claim(complaint_id=complaint.id, by=staff_user)  # claiming again is harmless
    with pytest.raises(ActionRefused) as refused:
        services.complaint_claim(complaint_id=complaint.id, by=other_staff)
    assert refused.value.message == errors.CLAIMED_BY_OTHER.format(name="alice")
    with pytest.raises(ActionRefused) as refused:
        services.complaint_release(complaint_id=complaint.id, by=other_staff)
    assert refused.value.message == errors.NOT_YOUR_CLAIM
    with pytest.raises(ActionRefused):
        services.complaint_resolve(complaint_id=complaint.id, by=other_staff)
    released = services.complaint_release(complaint_id=complaint.id, by=staff_user)
    assert released.status == "analysed" and released.claimed_by is None
    resolved = services.complaint_resolve(complaint_id=complaint.id, by=other_staff)
    assert resolved.status == "resolved" and resolved.claimed_by == other_staff
    with pytest.raises(ActionRefused) as refused:
        services.complaint_claim(complaint_id=complaint.id, by=staff_user)
    assert refused.value.message == errors.ALREADY_RESOLVED


def test_notes_are_internal_and_replies_public(staff_user):
    complaint = complaint_make()
    note = services.complaint_note_add(complaint_id=complaint.id, by=staff_user, body=" called them ")
    reply = services.complaint_reply_add(complaint_id=complaint.id, by=staff_user, body="Refunded.")
    assert (note.public, note.body) == (False, "called them")
    assert reply.public is True
    with pytest.raises(InvalidInput):
        services.complaint_note_add(complaint_id=complaint.id, by=staff_user, body=123)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_claim_waits_for_a_claim_in_flight_and_is_refused(staff_user, other_staff):
    """Deterministic, not a race left to chance: a second connection holds the complaint's
    row lock (as bob's claim would, between its SELECT ... FOR UPDATE and its commit),
    alice's claim must wait for it, and once bob's claim commits she is refused.

    Mutant tried: `.select_for_update()` removed from services._staff_action: alice read
    the row before bob's commit, her UPDATE waited and then overwrote bob's claim; the
    test failed ("claimed" instead of the refusal)."""
    import psycopg

    complaint = complaint_make()
    score_make(complaint=complaint)
    db = connection.settings_dict
    holder = psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                             port=db["PORT"])
    outcome = []

    def claim():
        try:
            services.complaint_claim(complaint_id=complaint.id, by=staff_user)
            outcome.append("claimed")
        except ActionRefused as exc:
            outcome.append(exc.message)
        finally:
            connection.close()

    alice = threading.Thread(target=claim)
    try:
        holder.execute("SELECT id FROM triage_complaint WHERE id = %s FOR UPDATE", (complaint.id,))
        alice.start()
        # Wait on the condition itself (Postgres says alice's backend waits for ours),
        # with a limit generous enough for a loaded machine.
        deadline = time.monotonic() + 30
        while not holder.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted"
                                 " AND %s = ANY(pg_blocking_pids(pid)))", (holder.info.backend_pid,)).fetchone()[0]:
            assert alice.is_alive() and time.monotonic() < deadline, f"alice's claim did not wait: {outcome}"
            time.sleep(0.05)
        holder.execute("UPDATE triage_complaint SET claimed_by_id = %s, claimed_at = now(), status = %s"
                       " WHERE id = %s", (other_staff.pk, Complaint.Status.IN_REVIEW, complaint.id))
        holder.commit()
        alice.join(30)
    finally:
        holder.rollback()
        holder.close()
        alice.join(30)
    assert outcome == [errors.CLAIMED_BY_OTHER.format(name="bob")]
    assert Complaint.objects.get(id=complaint.id).claimed_by == other_staff


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_admins_saving_a_policy_at_once_both_get_a_version(admin_user):
    from triage_app.models import EscalationPolicy

    before = EscalationPolicy.objects.order_by("-version").first().version
    barrier = threading.Barrier(2)
    outcomes = []

    def save(escalate_at):
        try:
            barrier.wait()
            saved = services.policy_create(by=admin_user, values={**POLICY, "escalate_at": escalate_at})
            outcomes.append(saved.version)
        except Exception as exc:  # the test reports what went wrong instead of hanging
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(value,)) for value in (30, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes) == [before + 1, before + 2]


def test_policy_change_reevaluates_open_complaints_and_is_audited(admin_user):
    calm = complaint_make()
    score_make(complaint=calm, compound=-0.5, priority=30, escalated=False)
    done = complaint_make(status="resolved")
    score_make(complaint=done, compound=-0.5, priority=30, escalated=False)

    policy = services.policy_create(by=admin_user, values={**POLICY, "escalate_at": 25})
    assert policy.version == SEEDED_VERSIONS + 1
    rescored = Score.objects.get(complaint=calm)
    assert (rescored.escalated, rescored.policy_version, rescored.priority) == (True, SEEDED_VERSIONS + 1, 30.0)
    assert Score.objects.get(complaint=done).policy_version == 1
    audit = AuditLog.objects.get(action="policy.create")
    assert audit.actor == admin_user
    assert audit.old["escalate_at"] == 60.0 and audit.new["escalate_at"] == 25.0 and audit.new["reevaluated"] == 1


def test_a_policy_change_reranks_a_claimed_complaint_and_leaves_its_claim(admin_user, staff_user):
    """"Changing it re-ranks open complaints live" (README): open is everything not
    resolved, so a complaint someone is working on (in_review) gets the new priority too,
    and keeps its claim. Under the new weights only the tone counts: 1.0 * 0.5 / 1.0 ->
    priority 50, at or above escalate_at 45. Mutant tried: complaints_reevaluate also
    excluding Complaint.Status.IN_REVIEW -> the claimed score kept priority 30 and
    policy_version 1; the test failed."""
    claimed = complaint_make()
    score_make(complaint=claimed, compound=-0.5, priority=30, escalated=False, policy_version=1)
    services.complaint_claim(complaint_id=claimed.id, by=staff_user)

    policy = services.policy_create(by=admin_user, values={
        **POLICY, "escalate_at": 45, "negative_compound": -0.9,
        "weight_sentiment": 1, "weight_severity": 0, "weight_category": 0})

    score = Score.objects.get(complaint=claimed)
    assert (score.priority, score.escalated, score.policy_version) == (50.0, True, policy.version)
    claimed.refresh_from_db()
    assert (claimed.status, claimed.claimed_by) == (Complaint.Status.IN_REVIEW, staff_user)
    assert AuditLog.objects.get(action="policy.create").new["reevaluated"] == 1


@pytest.mark.parametrize("change, field", [
    ({"escalate_at": 101}, "escalate_at"), ({"negative_compound": -1.5}, "negative_compound"),
    ({"weight_sentiment": "abc"}, "weight_sentiment"), ({"weight_severity": None}, "weight_severity"),
    ({"weight_category": float("nan")}, "weight_category"),
    ({"weight_sentiment": 0, "weight_severity": 0, "weight_category": 0}, "weight_sentiment"),
])
def test_policy_validation(admin_user, change, field):
    with pytest.raises(InvalidInput) as info:
        services.policy_create(by=admin_user, values={**POLICY, **change})
    assert field in info.value.errors
    assert EscalationPolicy.objects.count() == SEEDED_VERSIONS


def test_experiment_versions_and_audit(admin_user):
    arms = [{"label": "A", "model": "vader", "weight": 80}, {"label": "B", "model": "triage", "weight": 20}]
    experiment = services.experiment_create(by=admin_user, arms=arms, shadow_model="")
    assert experiment.version == SEEDED_VERSIONS + 1 and experiment.arms == arms and experiment.shadow_model is None
    audit = AuditLog.objects.get(action="experiment.create")
    assert audit.old["arms"] == [{"label": "A", "model": "triage", "weight": 100}]
    assert audit.old["shadow_model"] == "vader"
    assert audit.new["arms"] == arms


@pytest.mark.parametrize("arms, shadow, field", [
    ([{"label": "A", "model": "vader", "weight": 60}, {"label": "B", "model": "triage", "weight": 30}], None, "arms"),
    ([{"label": "A", "model": "bert", "weight": 100}], None, "arms"),
    ([{"label": "A", "model": "vader", "weight": 100}, {"label": "A", "model": "triage", "weight": 0}], None, "arms"),
    ([{"label": "A", "model": "vader", "weight": "100"}], None, "arms"),
    ("not a list", None, "arms"),
    ([{"label": "A", "model": "vader", "weight": 100}], "vader", "shadow_model"),
    ([{"label": "A", "model": "vader", "weight": 100}], "gpt", "shadow_model"),
])
def test_experiment_validation(admin_user, arms, shadow, field):
    with pytest.raises(InvalidInput) as info:
        services.experiment_create(by=admin_user, arms=arms, shadow_model=shadow)
    assert field in info.value.errors
    assert Experiment.objects.count() == SEEDED_VERSIONS


def test_stale_scores_are_reranked_under_the_current_policy(admin_user):
    services.policy_create(by=admin_user, values={**POLICY, "escalate_at": 10})
    complaint = complaint_make()
    score_make(complaint=complaint, compound=-0.5, priority=30, escalated=False, policy_version=1)
    assert services.scores_reevaluate_stale(complaint_ids=[complaint.id]) == 1
    score = Score.objects.get(complaint=complaint)
    assert score.escalated and score.policy_version == SEEDED_VERSIONS + 1


def test_a_batch_that_says_it_ranked_under_the_current_policy_is_not_read_again(admin_user):
    current = services.policy_create(by=admin_user, values={**POLICY, "escalate_at": 10}).version
    complaint = complaint_make()
    score_make(complaint=complaint, compound=-0.5, priority=30, escalated=False, policy_version=1)
    # The notification's word is taken: no score is read, so none is re-ranked ...
    assert services.scores_reevaluate_stale(complaint_ids=[complaint.id], ranked_under=current) == 0
    assert not Score.objects.get(complaint=complaint).escalated
    # ... and a batch ranked under an older version is checked and re-ranked.
    assert services.scores_reevaluate_stale(complaint_ids=[complaint.id], ranked_under=current - 1) == 1
    assert Score.objects.get(complaint=complaint).escalated
