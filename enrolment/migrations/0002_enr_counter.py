from django.db import migrations


def create_counter(apps, schema_editor):
    Counter = apps.get_model("enrolment", "EnrolmentCounter")
    Counter.objects.get_or_create(name="enr", defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("enrolment", "0001_initial")]

    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
