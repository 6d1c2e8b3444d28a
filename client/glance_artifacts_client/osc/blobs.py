"""artifact upload, artifact stage, artifact download, artifact import,
artifact store delete."""

import hashlib
import os
import sys

from osc_lib.command import command
from osc_lib import exceptions as osc_exceptions

from glance_artifacts_client import client as client_mod
from glance_artifacts_client import progress as progress_bar
from glance_artifacts_client.osc import common


def _add_blob_arguments(parser):
    common.add_type_argument(parser)
    common.add_artifact_arguments(parser)
    common.add_blob_argument(parser)
    parser.add_argument(
        '--progress', action='store_true', default=False,
        help='Show the progress (percentage, rate, ETA) on stderr')


def _add_data_arguments(parser, what):
    """--file, --content-type and --hash-algorithm of the commands that
    send data; ``what`` is the verb of --file's help."""
    parser.add_argument(
        '--file', metavar='<file>', dest='filename', required=True,
        help="File to %s, or '-' for stdin (which is first copied to a "
             "temporary file)" % what)
    parser.add_argument(
        '--content-type', metavar='<media-type>',
        help='Media type that downloads of the data get (default: '
             'application/octet-stream)')
    parser.add_argument(
        '--hash-algorithm', metavar='<algorithm>',
        default=client_mod.DEFAULT_HASH_ALGORITHM,
        choices=sorted(hashlib.algorithms_available),
        help="The server's hashing_algorithm (Glance's [DEFAULT] "
             "option), for the digest the server checks (default: "
             "%s)" % client_mod.DEFAULT_HASH_ALGORITHM)


def _send_data(parsed_args, send):
    """Call ``send(source, progress)`` with the data --file names and the
    progress bar --progress asks for; the blob it returns, as ShowOne
    shows it."""
    bar = progress_bar.Progress(None) if parsed_args.progress else None
    if parsed_args.filename == '-':
        source = sys.stdin.buffer
    else:
        try:
            source = open(parsed_args.filename, 'rb')
        except OSError as e:
            raise osc_exceptions.CommandError(
                'Cannot read %s: %s' % (parsed_args.filename, e.strerror))
    try:
        blob = send(source, bar)
    except BaseException:
        if bar is not None:
            bar.stop()
        raise
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if bar is not None:
        bar.finish()
    return common.show_artifact(blob or {})


class UploadBlob(command.ShowOne):
    _description = ("Upload the data of a blob of a drafted artifact; its "
                    "size, MD5 and hash (SHA-512) go with it, and the "
                    "server keeps nothing that does not match them")

    def get_parser(self, prog_name):
        parser = super(UploadBlob, self).get_parser(prog_name)
        _add_blob_arguments(parser)
        _add_data_arguments(parser, 'upload')
        parser.add_argument(
            '--store', metavar='<store>',
            help='Store backend to keep the data in (policy permitting)')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        field, key = common.split_blob(parsed_args.blob)
        artifact_id = common.artifact_id(client, parsed_args)
        return _send_data(parsed_args, lambda source, bar: client.upload_blob(
            parsed_args.type_name, artifact_id, field, source, key=key,
            content_type=parsed_args.content_type, store=parsed_args.store,
            progress=bar, hash_algorithm=parsed_args.hash_algorithm))


class StageBlob(command.ShowOne):
    _description = ("Stage the data of a blob of a drafted artifact (as "
                    "'image stage'): the server keeps it in Glance's "
                    "staging area, checked as an upload is, until "
                    "'artifact import --method glance-direct' stores it; "
                    "the blob is 'uploading' meanwhile")

    def get_parser(self, prog_name):
        parser = super(StageBlob, self).get_parser(prog_name)
        _add_blob_arguments(parser)
        _add_data_arguments(parser, 'stage')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        field, key = common.split_blob(parsed_args.blob)
        artifact_id = common.artifact_id(client, parsed_args)
        return _send_data(parsed_args, lambda source, bar: client.stage_blob(
            parsed_args.type_name, artifact_id, field, source, key=key,
            content_type=parsed_args.content_type, progress=bar,
            hash_algorithm=parsed_args.hash_algorithm))


class DownloadBlob(command.Command):
    _description = ("Download the data of a blob, verified against its "
                    "checksums while it streams; a download that does not "
                    "match exits 1, and to a file keeps nothing (to "
                    "standard output, the data is written as it comes)")

    def get_parser(self, prog_name):
        parser = super(DownloadBlob, self).get_parser(prog_name)
        _add_blob_arguments(parser)
        parser.add_argument(
            '--file', metavar='<file>', dest='filename',
            help="File to write the data to, or '-' for stdout (the "
                 "default when stdout is not a terminal)")
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        field, key = common.split_blob(parsed_args.blob)
        target = parsed_args.filename
        if target is None:
            if sys.stdout.isatty():
                raise osc_exceptions.CommandError(
                    'Give --file FILE, or redirect stdout, for the data')
            target = '-'
        if target != '-':
            directory = os.path.dirname(os.path.abspath(target))
            if os.path.isdir(target):
                raise osc_exceptions.CommandError(
                    '%s is a directory; give a file name' % target)
            if not os.access(directory, os.W_OK | os.X_OK):
                raise osc_exceptions.CommandError(
                    'Cannot write files in %s' % directory)
        artifact_id = common.artifact_id(client, parsed_args)
        bar = progress_bar.Progress(None) if parsed_args.progress else None
        try:
            if target == '-':
                self._to_stdout(client, parsed_args.type_name, artifact_id,
                                field, key, bar)
            else:
                client.download_blob_to_file(
                    parsed_args.type_name, artifact_id, field, target,
                    key=key, progress=bar)
        except BaseException:
            if bar is not None:
                bar.stop()
            raise
        if bar is not None:
            bar.finish()

    @staticmethod
    def _to_stdout(client, type_name, artifact_id, field, key, bar):
        """Stream the data to stdout (which cannot be taken back: a
        mismatch found at the end is an error after the data)."""
        with client.download_blob(type_name, artifact_id, field,
                                  key) as download:
            download.write_to(sys.stdout.buffer, bar)
            sys.stdout.buffer.flush()


IMPORT_METHODS = ('glance-direct', 'web-download', 'copy-blob')


class ImportBlob(command.ShowOne):
    _description = ("Import data into a blob in the background, as 'image "
                    "import' does: glance-direct stores the data staged "
                    "with 'artifact stage', web-download the data of a "
                    "URI, copy-blob copies the blob's data to more stores "
                    "(as --method copy-image); the blob then shows the "
                    "stores still to come and those that failed")

    def get_parser(self, prog_name):
        parser = super(ImportBlob, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        common.add_blob_argument(parser)
        parser.add_argument(
            '--method', metavar='<method>', default='copy-blob',
            choices=IMPORT_METHODS,
            help='Import method: %s (default: copy-blob)'
                 % ', '.join(IMPORT_METHODS))
        parser.add_argument(
            '--uri', metavar='<uri>',
            help='URI of the data that web-download downloads (required '
                 'with --method web-download, and only then)')
        parser.add_argument(
            '--hash-algo', metavar='<algorithm>', dest='hash_algo',
            choices=sorted(hashlib.algorithms_available),
            help='With --hash-value: the algorithm of the digest that the '
                 'data of web-download must have (validation_data; the '
                 "server's hashing_algorithm, sha512 by default)")
        parser.add_argument(
            '--hash-value', metavar='<hex>', dest='hash_value',
            help='With --hash-algo: the digest (hexadecimal) that the data '
                 'of web-download must have; data that does not match '
                 'is not kept')
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            '--store', metavar='<store>', dest='stores', action='append',
            help='Store to import the data to (repeat for several); '
                 'without it (nor --all-stores), glance-direct and '
                 'web-download use the store an upload would use, and '
                 'copy-blob refuses')
        where.add_argument(
            '--all-stores', action='store_true', default=False,
            help='Import the data to every store (copy-blob: every store '
                 'that lacks it)')
        failure = parser.add_mutually_exclusive_group()
        failure.add_argument(
            '--all-stores-must-succeed', action='store_true',
            dest='must_succeed', default=True,
            help='A store that fails ends the import, and the data it '
                 'wrote to the other stores is deleted again (default)')
        failure.add_argument(
            '--allow-failure', action='store_false', dest='must_succeed',
            help='A store that fails is skipped and the import goes on; '
                 'it succeeds when one store did')
        return parser

    @staticmethod
    def _check(parsed_args):
        """The method's options, or CommandError naming what is wrong;
        the validation_data they give (or None)."""
        method = parsed_args.method
        if method == 'web-download' and not parsed_args.uri:
            raise osc_exceptions.CommandError(
                'web-download needs --uri')
        if method != 'web-download' and parsed_args.uri is not None:
            raise osc_exceptions.CommandError(
                '--uri is only for --method web-download, not %s' % method)
        given = (parsed_args.hash_algo, parsed_args.hash_value)
        if given.count(None) == 1:
            raise osc_exceptions.CommandError(
                'Give --hash-algo and --hash-value together, or neither')
        if method != 'web-download' and None not in given:
            raise osc_exceptions.CommandError(
                '--hash-algo and --hash-value are only for --method '
                'web-download, not %s' % method)
        if (method == 'copy-blob' and not parsed_args.stores
                and not parsed_args.all_stores):
            raise osc_exceptions.CommandError(
                'copy-blob needs --store or --all-stores')
        if None in given:
            return None
        return {'os_hash_algo': parsed_args.hash_algo,
                'os_hash_value': parsed_args.hash_value}

    def take_action(self, parsed_args):
        validation_data = self._check(parsed_args)
        client = self.app.client_manager.artifact
        field, key = common.split_blob(parsed_args.blob)
        artifact_id = common.artifact_id(client, parsed_args)
        client.import_blob(parsed_args.type_name, artifact_id, field,
                           key=key, method=parsed_args.method,
                           stores=parsed_args.stores,
                           all_stores=parsed_args.all_stores,
                           all_stores_must_succeed=parsed_args.must_succeed,
                           uri=parsed_args.uri,
                           validation_data=validation_data)
        blob = client.get_artifact(parsed_args.type_name,
                                   artifact_id).get(field)
        return common.show_artifact(
            (blob.get(key) if key is not None and blob else blob) or {})


class DeleteBlobFromStore(command.Command):
    _description = ("Delete the copy of a blob's data in one store (never "
                    "the last one)")

    def get_parser(self, prog_name):
        parser = super(DeleteBlobFromStore, self).get_parser(prog_name)
        parser.add_argument('store', metavar='<store>',
                            help='Store to delete the copy from')
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        common.add_blob_argument(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        field, key = common.split_blob(parsed_args.blob)
        client.delete_blob_from_store(
            parsed_args.store, parsed_args.type_name,
            common.artifact_id(client, parsed_args), field, key=key)
