"""Mail to customers: the outbox of mails; per complaint its language, reply token and
the complaint it follows; the awaiting_staff status and the customer's events.

The reply token is unique, so it is added empty, filled for the complaints that have a
customer address (one fresh token each), and only then given its default for new rows.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
import triage_core.messages
from django.db import migrations, models


def tokens_for_existing(apps, schema_editor):
    Complaint = apps.get_model("triage_app", "Complaint")
    for complaint in Complaint.objects.filter(email__isnull=False, reply_token__isnull=True).only("id").iterator():
        Complaint.objects.filter(id=complaint.id).update(reply_token=triage_core.messages.new_reply_token())


class Migration(migrations.Migration):

    dependencies = [
        ('triage_app', '0006_seed_triage_2_by_default'),
    ]

    operations = [
        migrations.AddField(
            model_name='complaint',
            name='follows',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='follow_ups', to='triage_app.complaint'),
        ),
        migrations.AddField(
            model_name='complaint',
            name='language',
            field=models.CharField(db_default='en', default='en', max_length=8),
        ),
        migrations.AddField(
            model_name='complaint',
            name='reply_token',
            field=models.CharField(blank=True, editable=False, max_length=40, null=True, unique=True),
        ),
        migrations.RunPython(tokens_for_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='complaint',
            name='reply_token',
            field=models.CharField(blank=True, default=triage_core.messages.new_reply_token, editable=False, max_length=40, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='complaint',
            name='status',
            field=models.CharField(choices=[('received', 'Received'), ('analysed', 'Analysed'), ('in_review', 'In review'), ('awaiting_staff', 'Awaiting staff'), ('resolved', 'Resolved')], default='received', max_length=16),
        ),
        migrations.AlterField(
            model_name='complaintevent',
            name='kind',
            field=models.CharField(choices=[('received', 'Received'), ('claimed', 'Claimed'), ('released', 'Released'), ('note', 'Internal note'), ('reply', 'Reply to customer'), ('customer_reply', 'Customer wrote'), ('reopened', 'Reopened by the customer'), ('resolved', 'Resolved'), ('reevaluated', 'Re-evaluated')], max_length=16),
        ),
        migrations.AlterField(
            model_name='complaintevent',
            name='status',
            field=models.CharField(blank=True, choices=[('received', 'Received'), ('analysed', 'Analysed'), ('in_review', 'In review'), ('awaiting_staff', 'Awaiting staff'), ('resolved', 'Resolved')], max_length=16, null=True),
        ),
        migrations.CreateModel(
            name='MailMessage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('acknowledgement', 'Acknowledgement'), ('reply', 'Staff reply'), ('resolved', 'Resolution'), ('bounce', 'Bounce')], max_length=16)),
                ('to_address', models.EmailField(max_length=254)),
                ('subject', models.CharField(max_length=255)),
                ('body_text', models.TextField()),
                ('body_html', models.TextField(blank=True, default='')),
                ('message_id', models.CharField(max_length=255, unique=True)),
                ('in_reply_to', models.CharField(blank=True, default='', max_length=255)),
                ('reply_to', models.CharField(blank=True, default='', max_length=254)),
                ('auto_submitted', models.BooleanField(default=True)),
                ('language', models.CharField(default='en', max_length=8)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('next_attempt_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('last_error', models.TextField(blank=True, default='')),
                ('complaint', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='mails', to='triage_app.complaint')),
            ],
            options={
                'db_table': 'triage_mail_outbox',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['next_attempt_at'], name='triage_mail_pending_idx')],
            },
        ),
    ]
