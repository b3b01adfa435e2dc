from tortoise import migrations
from tortoise.migrations import operations as ops
from cms.models.accounts import Role
from cms.models.appeals import AppealAction, AppealState, ConsentChannel, NoAnswerReason
from cms.models.base import UtcDatetimeField
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_media_public')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Appeal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.OneToOneField('models.FeedbackMessage', source_field='message_id', db_constraint=True, to_field='id', related_name='appeal', on_delete=OnDelete.CASCADE)),
                ('number', fields.CharField(null=True, unique=True, max_length=64)),
                ('state', fields.CharEnumField(default=AppealState.RECEIVED, description='RECEIVED: received\nREGISTERED: registered\nIN_REVIEW: in_review\nANSWERED: answered\nFORWARDED: forwarded\nLEFT_WITHOUT_ANSWER: left_without_answer\nWITHDRAWN: withdrawn', enum_type=AppealState, max_length=24)),
                ('received_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('registration_due_on', fields.DateField()),
                ('registered_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_on', fields.DateField(null=True)),
                ('deadline_on', fields.DateField()),
                ('extended_days', fields.IntField(null=True)),
                ('extension_reason', fields.TextField(null=True, unique=False)),
                ('extended_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('extended_by', fields.ForeignKeyField('models.User', source_field='extended_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('closed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('no_answer_reason', fields.CharEnumField(null=True, description='NO_NAME_OR_ADDRESS: no_name_or_address\nOFFENSIVE_LANGUAGE: offensive_language\nUNREADABLE: unreadable\nUNCLEAR_ESSENCE: unclear_essence\nREPEATED_QUESTION: repeated_question', enum_type=NoAnswerReason, max_length=32)),
                ('forwarded_to', fields.CharField(null=True, max_length=300)),
                ('revision', fields.IntField(default=1)),
                ('updated_at', UtcDatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'appeal', 'app': 'models', 'indexes': [Index(fields=['state', 'deadline_on', 'id']), Index(fields=['deadline_on', 'id']), Index(fields=['received_at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppealEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('appeal', fields.ForeignKeyField('models.Appeal', source_field='appeal_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharEnumField(description='RECEIVED: received\nREGISTERED: registered\nREVIEW_STARTED: review_started\nEXTENDED: extended\nANSWERED: answered\nFORWARDED: forwarded\nLEFT_WITHOUT_ANSWER: left_without_answer\nWITHDRAWN: withdrawn', enum_type=AppealAction, max_length=24)),
                ('from_state', fields.CharEnumField(null=True, description='RECEIVED: received\nREGISTERED: registered\nIN_REVIEW: in_review\nANSWERED: answered\nFORWARDED: forwarded\nLEFT_WITHOUT_ANSWER: left_without_answer\nWITHDRAWN: withdrawn', enum_type=AppealState, max_length=24)),
                ('to_state', fields.CharEnumField(description='RECEIVED: received\nREGISTERED: registered\nIN_REVIEW: in_review\nANSWERED: answered\nFORWARDED: forwarded\nLEFT_WITHOUT_ANSWER: left_without_answer\nWITHDRAWN: withdrawn', enum_type=AppealState, max_length=24)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('letter', fields.TextField(null=True, unique=False)),
                ('attachment_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('details', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'appeal_event', 'app': 'models', 'indexes': [Index(fields=['appeal_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppealNumberCounter',
            fields=[
                ('year', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'appeal_number_counter', 'app': 'models', 'pk_attr': 'year'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.IntField(unique=True)),
                ('title', fields.CharField(max_length=300)),
                ('text', fields.TextField(unique=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('published_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'consent_document', 'app': 'models', 'indexes': [Index(fields=['published_at', 'version'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='consent_channel',
            field=fields.CharEnumField(null=True, description='WEB_FORM: web_form\nMOBILE_APP: mobile_app', enum_type=ConsentChannel, max_length=16),
        ),
        ops.AddField(
            model_name='FeedbackMessage',
            name='consent_version',
            field=fields.ForeignKeyField('models.ConsentDocument', source_field='consent_version_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='FeedbackNotification',
            name='event',
            field=fields.ForeignKeyField('models.AppealEvent', source_field='event_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='User',
            name='role',
            field=fields.CharEnumField(default=Role.VIEWER, description='ADMIN: admin\nEDITOR: editor\nAUTHOR: author\nVIEWER: viewer\nHEAD: head', enum_type=Role, max_length=16),
        ),
    ]
