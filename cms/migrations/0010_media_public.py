from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0006_news_counts")]

    initial = False

    operations = [
        ops.AddField(
            model_name="MediaAsset",
            name="public",
            field=fields.BooleanField(default=False),
        ),
    ]
