"""A real S3 server for tests: moto's (PyPI ``moto[server]``), started on a
free port of 127.0.0.1 once per test process and stopped at exit. Each
user gets a bucket of its own, so that runs never see each other's data.

GA_TEST_STORE=file (default) or s3 picks the store the blob tests write
to; tests that are about S3 use it whatever the setting.
"""

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import boto3
from botocore import config as boto_config

from tests import base

ACCESS_KEY = 'testing'
SECRET_KEY = 'testing-secret'
_server = {}


def kind():
    return os.environ.get('GA_TEST_STORE', 'file')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def endpoint():
    """The URL of this process's moto server, started on first use."""
    if 'url' not in _server:
        port = _free_port()
        log = tempfile.NamedTemporaryFile(prefix='moto-', suffix='.log',
                                          delete=False)
        process = subprocess.Popen(
            [os.path.join(base.BIN, 'moto_server'), '-H', '127.0.0.1',
             '-p', str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(_stop, process)
        url = 'http://127.0.0.1:%d' % port
        deadline = time.time() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError('moto_server exited: %s'
                                   % open(log.name).read()[-2000:])
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError('moto_server did not answer')
                time.sleep(0.1)
        _server.update(url=url, process=process)
    return _server['url']


def _stop(process):
    if process.poll() is None:
        process.terminate()
        process.wait(10)


def client():
    return boto3.client(
        's3', endpoint_url=endpoint(), aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name='us-east-1',
        config=boto_config.Config(s3={'addressing_style': 'path'}))


def new_bucket():
    name = 'ga-test-%s' % uuid.uuid4().hex[:16]
    client().create_bucket(Bucket=name)
    return name


def backend_section(name, bucket, part_mib=5):
    """A glance-api.conf section for an S3 backend ``name`` on ``bucket``
    (glance_store's s3 driver; multipart from ``part_mib`` MiB on, in
    parts of that size, or glance_store's defaults with None)."""
    section = ('\n[%s]\ns3_store_host = %s\ns3_store_access_key = %s\n'
               's3_store_secret_key = %s\ns3_store_bucket = %s\n'
               's3_store_bucket_url_format = path\n'
               % (name, endpoint(), ACCESS_KEY, SECRET_KEY, bucket))
    if part_mib is not None:
        section += ('s3_store_large_object_size = %d\n'
                    's3_store_large_object_chunk_size = %d\n'
                    % (part_mib, part_mib))
    return section


def contents(bucket):
    """(object keys, incomplete multipart upload keys, their part count)
    in ``bucket``."""
    c = client()
    keys = [o['Key'] for page in c.get_paginator('list_objects_v2')
            .paginate(Bucket=bucket) for o in page.get('Contents', ())]
    uploads = [u for page in c.get_paginator('list_multipart_uploads')
               .paginate(Bucket=bucket) for u in page.get('Uploads', ())]
    parts = 0
    for u in list(uploads):
        try:
            parts += len(c.list_parts(Bucket=bucket, Key=u['Key'],
                                      UploadId=u['UploadId']).get('Parts',
                                                                  ()))
        except c.exceptions.NoSuchUpload:
            uploads.remove(u)       # aborted since it was listed
    return sorted(keys), sorted(u['Key'] for u in uploads), parts


def stored(bucket):
    """The bodies of the objects in ``bucket``, sorted, with
    b'incomplete upload KEY' for each incomplete multipart upload."""
    c = client()
    keys, uploads, _parts = contents(bucket)
    return sorted([c.get_object(Bucket=bucket, Key=k)['Body'].read()
                   for k in keys] +
                  [b'incomplete upload ' + k.encode() for k in uploads])


def empty(bucket):
    c = client()
    for page in c.get_paginator('list_multipart_uploads').paginate(
            Bucket=bucket):
        for u in page.get('Uploads', ()):
            c.abort_multipart_upload(Bucket=bucket, Key=u['Key'],
                                     UploadId=u['UploadId'])
    for page in c.get_paginator('list_objects_v2').paginate(Bucket=bucket):
        for o in page.get('Contents', ()):
            c.delete_object(Bucket=bucket, Key=o['Key'])


if __name__ == '__main__':
    print(endpoint())
    sys.stdout.flush()
    _server['process'].wait()
