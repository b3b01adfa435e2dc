from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_accounts_history')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Agreement',
            name=None,
            fields=['status', 'published_at', 'id'],
        ),
        ops.AddIndex(
            model_name='Agreement',
            index=Index(fields=['status', 'deleted_at', 'published_at', 'id']),
        ),
        ops.RemoveIndex(
            model_name='News',
            name=None,
            fields=['status', 'published_at', 'id'],
        ),
        ops.AddIndex(
            model_name='News',
            index=Index(fields=['status', 'deleted_at', 'published_at', 'id']),
        ),
    ]
