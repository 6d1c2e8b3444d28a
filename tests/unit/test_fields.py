"""Field declarations: validation, schema and declaration errors."""

import testtools

from glance.artifacts import fields as f
from glance.artifacts.types import base
from glance.artifacts.types import sample


class TestValidation(testtools.TestCase):

    def test_string_normalises_nothing_and_checks_lengths(self):
        field = f.String(min_length=2, max_length=3)
        self.assertEqual('ab', field.validate('ab'))
        self.assertRaisesRegex(f.InvalidValue, 'at least 2',
                               field.validate, 'a')
        self.assertRaisesRegex(f.InvalidValue, 'at most 3',
                               field.validate, 'abcd')

    def test_required_refuses_null_and_optional_accepts_it(self):
        self.assertRaisesRegex(f.InvalidValue, 'a value is required',
                               f.Integer(required=True).validate, None)
        self.assertIsNone(f.Integer().validate(None))

    def test_collections_turn_null_into_empty(self):
        self.assertEqual([], f.List().validate(None))
        self.assertEqual({}, f.Dict().validate(None))

    def test_datetime_is_normalised_to_utc(self):
        self.assertEqual('2024-01-01T10:00:00.000000Z',
                         f.DateTime().validate('2024-01-01T12:00:00+02:00'))

    def test_reference_is_normalised_uuid(self):
        self.assertEqual('0b4c7c0e-5f0e-4c7a-9d3e-6b0c1f0e2a11',
                         f.Reference().validate(
                             '0B4C7C0E5F0E4C7A9D3E6B0C1F0E2A11'))

    def test_number_refuses_non_finite(self):
        self.assertRaisesRegex(f.InvalidValue, 'finite',
                               f.Number().validate, float('inf'))

    def test_semver_storage_orders_and_round_trips(self):
        field = f.SemVer()
        stored = [field.to_storage(v) for v in ('1.10.0', '1.2.0+b')]
        self.assertEqual(['1.2.0+b', '1.10.0'],
                         [field.from_storage(s) for s in sorted(stored)])

    def test_custom_validator_message_is_kept(self):
        self.assertRaisesRegex(f.InvalidValue, 'must be even',
                               sample.SampleArtifact.fields['int_even']
                               .validate, 3)


class TestDeclarations(testtools.TestCase):

    def test_kinds_that_cannot_sort_refuse_the_flag(self):
        self.assertRaises(f.DeclarationError, f.List, sortable=True)
        self.assertRaises(f.DeclarationError, f.Text, filterable=True)
        self.assertRaises(f.DeclarationError, f.Blob, sortable=True)
        self.assertRaises(f.DeclarationError, f.List, f.Blob())

    def test_default_is_validated_at_declaration(self):
        self.assertRaises(f.InvalidValue, f.Integer, max_value=3, default=4)

    def test_string_longer_than_storage_is_refused(self):
        self.assertRaises(f.DeclarationError, f.String, max_length=256)

    def test_type_declaration_is_checked(self):
        class Bad(base.ArtifactType):
            name = 'bad'
            display_name = 'Bad'
            fields = {'name': f.String()}
        self.assertRaisesRegex(f.DeclarationError, 'clashes',
                               Bad.check_declaration, 'bad')
        self.assertRaisesRegex(f.DeclarationError, 'differs',
                               Bad.check_declaration, 'other')

    def test_reserved_and_malformed_type_names_are_refused(self):
        for name in ('all', 'schemas', 'usage', 'Bad', '1x', 'a/b'):
            cls = type('T', (base.ArtifactType,),
                       {'name': name, 'display_name': 'T'})
            self.assertRaises(f.DeclarationError, cls.check_declaration,
                              name)

    def test_sample_type_uses_every_field_kind(self):
        kinds = {type(fd) for fd in sample.SampleArtifact.fields.values()}
        self.assertEqual({f.String, f.Text, f.Integer, f.Number, f.Boolean,
                          f.DateTime, f.SemVer, f.List, f.Dict, f.Reference,
                          f.ReferenceList, f.ReferenceDict, f.Blob,
                          f.BlobDict}, kinds)
        flags = ('required', 'mutable', 'required_on_activate', 'sortable',
                 'filterable', 'default', 'allowed_values', 'validators')
        for flag in flags:
            self.assertTrue(any(getattr(fd, flag)
                                for fd in sample.SampleArtifact.fields
                                .values()), flag)
