from tortoise import migrations
from tortoise.migrations import operations as ops
from cms.models.base import UtcDatetimeField
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('token_prefix', fields.CharField(max_length=16)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='api_tokens', on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('actor', fields.CharField(max_length=254)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('api_token', fields.ForeignKeyField('models.ApiToken', source_field='api_token_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=100)),
                ('object_id', fields.CharField(null=True, max_length=120)),
                ('address', fields.CharField(null=True, max_length=64)),
                ('succeeded', fields.BooleanField(default=True)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'indexes': [Index(fields=['at', 'id']), Index(fields=['user_id', 'at', 'id']), Index(fields=['object_id', 'at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('address', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'auth_session', 'app': 'models', 'indexes': [Index(fields=['user_id', 'expires_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Revision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('content_type', fields.CharField(max_length=40)),
                ('object_id', fields.IntField()),
                ('number', fields.IntField()),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('author_token', fields.ForeignKeyField('models.ApiToken', source_field='author_token_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('changed_fields', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('snapshot', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'revision', 'app': 'models', 'unique_together': (('content_type', 'object_id', 'number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlugRedirect',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('content_type', fields.CharField(max_length=40)),
                ('slug', fields.CharField(max_length=200)),
                ('object_id', fields.IntField()),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'slug_redirect', 'app': 'models', 'unique_together': (('content_type', 'slug'),), 'indexes': [Index(fields=['content_type', 'object_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ActionPlan',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='ActionPlan',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Agreement',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Agreement',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='CooperationDirection',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='CooperationDirection',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Enterprise',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Enterprise',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Event',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Event',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='News',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='News',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Organization',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Organization',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Person',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Person',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Tag',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Tag',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='User',
            name='last_login_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Visit',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Visit',
            name='deleted_by',
            field=fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
