"""Media visibility: the `public` mark, and an index on every foreign key to
media_asset, since whether an asset is public is asked per asset
(cms/services/visibility.py)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0007_content_fields")]

    initial = False

    operations = [
        ops.AddField(
            model_name="MediaAsset",
            name="public",
            field=fields.BooleanField(default=False),
        ),
        ops.AddIndex(model_name="AgreementDocument", index=Index(fields=["asset_id"])),
        ops.AddIndex(model_name="Enterprise", index=Index(fields=["logo_id"])),
        ops.AddIndex(model_name="News", index=Index(fields=["cover_id"])),
        ops.AddIndex(model_name="Person", index=Index(fields=["photo_id"])),
    ]
