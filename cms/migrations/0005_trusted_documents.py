from tortoise import migrations
from tortoise.migrations import operations as ops
from cms.models.base import UtcDatetimeField
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_feedback')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TrustedDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document_id', fields.CharField(unique=True, max_length=128)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('body', fields.TextField(unique=False)),
                ('name', fields.CharField(null=True, max_length=200)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'trusted_document', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
