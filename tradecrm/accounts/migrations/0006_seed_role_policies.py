from django.db import migrations

# Today's behaviour, copied here (a migration must not import the live defaults, which may change).
POLICIES = {
    "admin": ("all", ["create", "edit", "delete", "export", "reveal", "merge", "manage_pool", "see_margins"]),
    "manager": ("team_subteams", ["create", "edit", "delete", "export", "reveal", "merge", "manage_pool",
                                  "see_margins"]),
    "sales": ("own", ["create", "edit", "delete", "reveal", "merge"]),
    "assistant": ("own", ["create", "edit"]),
    "read_only": ("team_subteams", []),
}


def seed(apps, schema_editor):
    RolePolicy = apps.get_model("accounts", "RolePolicy")
    for role, (scope, actions) in POLICIES.items():
        RolePolicy.objects.get_or_create(role=role, defaults={"scope": scope, "actions": actions})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_roles_policies")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
