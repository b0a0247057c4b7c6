"""One "triage admin" permission for the admin screens and their Django admin pages, and a
group that holds it. Staff who could add a policy before (the old test) keep their
rights through the group."""

from django.db import migrations

GROUP = "Triage admins"


def triage_admin_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    policy_type, _ = ContentType.objects.get_or_create(app_label="triage_app", model="escalationpolicy")
    permission, _ = Permission.objects.get_or_create(
        content_type=policy_type, codename="triage_admin",
        defaults={"name": "Can tune the escalation policy and run model experiments"})
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)
    old = Permission.objects.filter(content_type=policy_type, codename="add_escalationpolicy").first()
    if old is not None:
        holders = User.objects.filter(user_permissions=old) | User.objects.filter(groups__permissions=old)
        for user in holders.distinct():
            user.groups.add(group)


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('triage_app', '0008_satisfaction_and_opt_out'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='escalationpolicy',
            options={'ordering': ['-version'], 'permissions': [('triage_admin', 'Can tune the escalation policy and run model experiments')], 'verbose_name_plural': 'escalation policies'},
        ),
        migrations.RunPython(triage_admin_group, migrations.RunPython.noop),
    ]
