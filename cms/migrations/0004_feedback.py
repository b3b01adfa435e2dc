from tortoise import migrations
from tortoise.migrations import operations as ops
from cms.models.base import UtcDatetimeField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_visibility_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeedbackNotification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('models.FeedbackMessage', source_field='message_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('next_attempt_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('sent_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=300)),
            ],
            options={'table': 'feedback_notification', 'app': 'models', 'indexes': [Index(fields=['sent_at', 'failed_at', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedbackTicketCounter',
            fields=[
                ('year', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'feedback_ticket_counter', 'app': 'models', 'pk_attr': 'year'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='address_hash',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='anonymized_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='assigned_to',
            field=fields.ForeignKeyField('models.User', source_field='assigned_to_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='consent_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='fingerprint',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='revision',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='search_text',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddIndex(
            model_name='FeedbackMessage',
            index=Index(fields=['fingerprint', 'created_at']),
        ),
        ops.AddIndex(
            model_name='FeedbackMessage',
            index=Index(fields=['email']),
        ),
        ops.AddIndex(
            model_name='FeedbackMessage',
            index=Index(fields=['phone']),
        ),
        ops.AddIndex(
            model_name='FeedbackMessage',
            index=Index(fields=['assigned_to_id', 'created_at', 'id']),
        ),
    ]
