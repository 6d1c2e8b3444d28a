"""Write a multi-architecture OCI image layout into DIR (the only
argument): an index of two image manifests (amd64, arm64), each with a
config and one gzip tar layer, tagged "latest": seven blobs."""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def main(root):
    blobs = os.path.join(root, 'blobs', 'sha256')
    os.makedirs(blobs, exist_ok=True)

    def put(data, media):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), 'wb') as f:
            f.write(data)
        return {'mediaType': media, 'digest': 'sha256:' + d, 'size': len(data)}

    manifests = []
    for arch in ('amd64', 'arm64'):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode='w') as tar:
            payload = ('hello from %s\n' % arch).encode() * 1000
            info = tarfile.TarInfo('hello-%s.txt' % arch)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        layer_tar = raw.getvalue()
        layer = put(gzip.compress(layer_tar, mtime=0),
                    'application/vnd.oci.image.layer.v1.tar+gzip')
        config = put(json.dumps({
            'architecture': arch, 'os': 'linux',
            'rootfs': {'type': 'layers', 'diff_ids': [
                'sha256:' + hashlib.sha256(layer_tar).hexdigest()]},
            'config': {}}).encode(),
            'application/vnd.oci.image.config.v1+json')
        manifest = put(json.dumps({
            'schemaVersion': 2,
            'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': config, 'layers': [layer]}).encode(),
            'application/vnd.oci.image.manifest.v1+json')
        manifest['platform'] = {'architecture': arch, 'os': 'linux'}
        manifests.append(manifest)
    index = put(json.dumps({
        'schemaVersion': 2,
        'mediaType': 'application/vnd.oci.image.index.v1+json',
        'manifests': manifests}).encode(),
        'application/vnd.oci.image.index.v1+json')
    index['annotations'] = {'org.opencontainers.image.ref.name': 'latest'}
    with open(os.path.join(root, 'index.json'), 'w') as f:
        json.dump({'schemaVersion': 2, 'manifests': [index]}, f)
    with open(os.path.join(root, 'oci-layout'), 'w') as f:
        json.dump({'imageLayoutVersion': '1.0.0'}, f)


if __name__ == '__main__':
    main(sys.argv[1])
