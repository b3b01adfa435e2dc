from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_news_counts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Enterprise',
            name='inn',
            field=fields.CharField(null=True, max_length=12),
        ),
        ops.AddField(
            model_name='Enterprise',
            name='ogrn',
            field=fields.CharField(null=True, max_length=15),
        ),
        ops.AddField(
            model_name='News',
            name='seo_description',
            field=fields.CharField(null=True, max_length=160),
        ),
        ops.AddField(
            model_name='News',
            name='seo_title',
            field=fields.CharField(null=True, max_length=70),
        ),
    ]
