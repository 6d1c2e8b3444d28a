"""Packaging: glance-artifacts installs next to a real Glance and leaves it
intact.

Requirement: "`pip install .` and `pip install -e .` both work next to an
installed Glance, and uninstalling leaves Glance intact".

How a throwaway environment is made (a few seconds, not a minute):

* ``python -m venv --without-pip`` in a temp dir.
* Glance's dependencies come from the environment running the tests: every
  entry of its site-packages is symlinked into a ``deps`` directory, which a
  ``.pth`` file adds to the new venv *after* the venv's own site-packages.
  Everything Glance-owned or ours is left out of ``deps`` (the ``glance``
  package, glance and glance-artifacts metadata, editable finders/.pth
  entries pointing at the checkout), and each test first checks that neither
  Glance's ``glance`` package nor glance-artifacts is visible from ``deps``.
* The real Glance wheel (the version installed here, fetched once per test
  class with ``pip download``) is installed with ``--no-deps`` into the
  venv's own site-packages: our files land in that same site-packages, next
  to Glance's, exactly as on a server.
* Our distribution is installed with the venv's pip, ``--no-deps`` and WITH
  the default build isolation, i.e. the real ``pip install .`` /
  ``pip install -e .`` code path, building with what pyproject.toml's
  ``[build-system] requires`` names.  (``--no-build-isolation`` is not used:
  the running environment has setuptools 65 and no ``wheel``, which cannot
  build a wheel.)  The build requirements are fetched once per test class
  into a local wheelhouse and the installs run with ``--no-index`` against
  it, so a build does not hit the network.

``pip install .`` runs in a copy of the checkout's files (tracked plus
untracked-but-not-ignored, i.e. what a commit of the working tree would
hold), so a stale ``build/`` directory cannot leak into the wheel and the
test writes nothing into the checkout.  ``pip install -e .`` must run in the
checkout itself (the modules must import from it); setuptools rewrites the
git-ignored ``glance_artifacts.egg-info`` there, so editable installs take a
file lock to not race each other when stestr runs tests in parallel.
"""

import base64
import configparser
import csv
import fcntl
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import testtools

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib


REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__))))

ROOMS = ('glance/artifacts/', 'glance/api/v2/artifacts/',
         'glance/db/artifacts/')
GLANCE_OWNED_INITS = ('glance/__init__.py', 'glance/api/__init__.py',
                      'glance/api/v2/__init__.py', 'glance/db/__init__.py')
OUR_MODULES = ('glance.artifacts.catalog', 'glance.api.v2.artifacts.router',
               'glance.db.artifacts.sqlalchemy_api')
GLANCE_ROUTER = 'glance.api.v2.router'
DIST = 'glance-artifacts'
CONSOLE_SCRIPT = 'glance-artifacts-manage'
TIMEOUT = 300

# Runs inside the throwaway venv; prints one JSON line after the marker.
PROBE = r'''
import importlib, importlib.metadata as md, json, os, sys
modules = sys.argv[1:]
out = {'modules': {}, 'entry_points': None}
for name in modules:
    try:
        out['modules'][name] = {
            'file': os.path.realpath(importlib.import_module(name).__file__)}
    except ImportError as e:
        out['modules'][name] = {'error': type(e).__name__, 'name': e.name}
import glance
out['glance'] = glance.__file__
try:
    dist = md.distribution('glance-artifacts')
except md.PackageNotFoundError:
    pass
else:
    out['entry_points'] = sorted(
        [ep.group, ep.name, ep.value] for ep in dist.entry_points)
    out['types'] = sorted(
        [ep.name, ep.dist.name, ep.load().__module__]
        for ep in md.entry_points(group='glance.artifacts.types'))
print('@@PROBE@@' + json.dumps(out))
'''


BASELINE_PROBE = r'''
import glance, importlib.metadata as md, importlib.util, json
try:
    md.distribution('glance-artifacts')
    ours = True
except md.PackageNotFoundError:
    ours = False
# (glance.artifacts only: finding the other two would import glance.db
# and glance.api, which takes seconds; the rooms' directories are checked
# on disk.)
print(json.dumps([glance.__file__,
                  importlib.util.find_spec('glance.artifacts'),
                  ours]))
'''


def _sha256_record(path):
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).digest()
    return 'sha256=' + base64.urlsafe_b64encode(digest).rstrip(b'=').decode()


def _repo_files():
    """Files a commit of the working tree would hold, repo-relative."""
    if os.path.isdir(os.path.join(REPO, '.git')) and shutil.which('git'):
        out = subprocess.run(
            ['git', 'ls-files', '-z', '--cached', '--others',
             '--exclude-standard'], cwd=REPO, check=True,
            capture_output=True).stdout.decode()
        # --cached still lists files deleted in the working tree.
        return sorted(p for p in out.split('\0')
                      if p and os.path.isfile(os.path.join(REPO, p)))
    skip_dirs = {'.git', '.tox', '.venv', '.dev', '.stestr', 'build', 'dist',
                 '__pycache__'}
    found = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs
                   if d not in skip_dirs and not d.endswith('.egg-info')]
        for name in files:
            if not name.endswith('.pyc'):
                found.append(os.path.relpath(os.path.join(root, name), REPO))
    return sorted(found)


def _in_rooms(relpath):
    return relpath.startswith(ROOMS)


def _tree_digest(top):
    """{relative path: sha256} of every file under top but __pycache__."""
    digest = {}
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in files:
            path = os.path.join(root, name)
            digest[os.path.relpath(path, top)] = _sha256_record(path)
    return digest


def _declared_entry_points():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(os.path.join(REPO, 'setup.cfg'))
    declared = []
    for group, value in parser['options.entry_points'].items():
        for line in value.strip().splitlines():
            name, _, target = line.partition('=')
            declared.append([group, name.strip(), target.strip()])
    return sorted(declared)


class RepositoryLayoutTest(testtools.TestCase):

    def test_repository_holds_no_glance_owned_init_and_nothing_outside_rooms(
            self):
        files = _repo_files()
        self.assertIn('setup.cfg', files)  # we did list the checkout
        self.assertEqual(
            [], [f for f in GLANCE_OWNED_INITS if f in files
                 or os.path.exists(os.path.join(REPO, f))])
        self.assertEqual(
            [], [f for f in files
                 if f.startswith('glance/') and not _in_rooms(f)])


class PackagingTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wheelhouse = tempfile.mkdtemp(prefix='glance-artifacts-wheels-')
        cls.addClassCleanup(shutil.rmtree, cls.wheelhouse, True)
        cls.glance_version = importlib.metadata.version('glance')
        with open(os.path.join(REPO, 'pyproject.toml'), 'rb') as f:
            build_requires = tomllib.load(f)['build-system']['requires']
        for args in (['--no-deps', 'glance==%s' % cls.glance_version],
                     list(build_requires)):
            cmd = [sys.executable, '-m', 'pip', 'download', '--no-input',
                   '--progress-bar', 'off', '-d', cls.wheelhouse] + args
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=TIMEOUT)
            if proc.returncode:
                raise RuntimeError('%s failed:\n%s\n%s' % (
                    ' '.join(cmd), proc.stdout, proc.stderr))
        (cls.glance_wheel,) = glob.glob(os.path.join(
            cls.wheelhouse, 'glance-%s-*.whl' % cls.glance_version))

    # -- the throwaway environment ------------------------------------------

    def setUp(self):
        super().setUp()
        self.tmp = os.path.realpath(
            tempfile.mkdtemp(prefix='glance-artifacts-packaging-'))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.venv = os.path.join(self.tmp, 'venv')
        self._run([sys.executable, '-m', 'venv', '--without-pip', self.venv])
        self.python = os.path.join(self.venv, 'bin', 'python')
        self.site = self._venv_site_packages()
        self._add_dependency_overlay()
        self.env = self._subprocess_env()

        # Baseline: neither Glance nor we are visible yet.
        probe = self._probe(expect_glance=False)
        self.assertIsNone(probe)

        # --no-compile: Glance's ~1000 .pyc files cost seconds and are not
        # what this is about; its .py files and metadata are installed as is.
        self._pip('install', '--no-deps', '--no-index', '--no-compile',
                  self.glance_wheel)
        self.glance_dist_info = os.path.join(
            self.site, 'glance-%s.dist-info' % self.glance_version)
        self.assertEqual([], self._record_problems(self.glance_dist_info))
        self.glance_tree = _tree_digest(os.path.join(self.site, 'glance'))
        # Glance comes from the venv; nothing of ours is importable yet.
        out = self._run([self.python, '-c', BASELINE_PROBE])
        self.assertEqual(
            [os.path.join(self.site, 'glance', '__init__.py'), None, False],
            json.loads(out.splitlines()[-1]))
        for room in ROOMS:
            self.assertFalse(os.path.exists(os.path.join(self.site, room)))

    def _venv_site_packages(self):
        out = self._run([self.python, '-c',
                         'import sysconfig; '
                         'print(sysconfig.get_paths()["purelib"])'])
        return out.strip()

    def _add_dependency_overlay(self):
        """Expose the running environment's packages, minus Glance and us."""
        deps = os.path.join(self.tmp, 'deps')
        os.mkdir(deps)
        sources = []
        for key in ('purelib', 'platlib'):
            path = sysconfig.get_paths()[key]
            if os.path.isdir(path) and path not in sources:
                sources.append(path)
        for source in sources:
            for name in sorted(os.listdir(source)):
                target = os.path.join(deps, name)
                lowered = name.lower()
                if (name in ('glance', '__pycache__')
                        or re.match(r'glance-[^-]+\.(dist|egg)-info$', name)
                        or 'glance_artifacts' in lowered
                        or 'glance-artifacts' in lowered
                        or os.path.exists(target)):
                    continue
                path = os.path.join(source, name)
                if name.endswith('.pth'):
                    # Copy, dropping lines that would put the checkout or an
                    # install of ours on sys.path.
                    with open(path) as f:
                        lines = [line for line in f
                                 if REPO not in line
                                 and 'glance_artifacts' not in line]
                    with open(target, 'w') as f:
                        f.writelines(lines)
                else:
                    os.symlink(path, target)
        # site.addsitedir so the .pth files in deps (namespace packages,
        # setuptools' distutils shim) are processed as in the original.
        with open(os.path.join(self.site, '_test_deps_overlay.pth'),
                  'w') as f:
            f.write('import site; site.addsitedir(%r)\n' % deps)

    def _subprocess_env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP',
                            'PYTHONSAFEPATH', '__PYVENV_LAUNCHER__')}
        env['VIRTUAL_ENV'] = self.venv
        env['PATH'] = os.pathsep.join(
            [os.path.join(self.venv, 'bin'), env.get('PATH', '')])
        env['PYTHONNOUSERSITE'] = '1'
        env['PYTHONWARNINGS'] = 'ignore'
        return env

    def _run(self, cmd, cwd=None, check=True):
        proc = subprocess.run(cmd, cwd=cwd or self.tmp,
                              env=getattr(self, 'env', None),
                              capture_output=True, text=True,
                              timeout=TIMEOUT)
        if check and proc.returncode:
            self.fail('%s exited %d\nstdout:\n%s\nstderr:\n%s' % (
                ' '.join(cmd), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout if check else proc

    def _pip(self, *args, cwd=None):
        return self._run([self.python, '-m', 'pip', '--no-input']
                         + list(args), cwd=cwd)

    def _install(self, *args, cwd):
        return self._pip('install', '--no-deps', '--no-index',
                         '--find-links', self.wheelhouse, *args, cwd=cwd)

    def _install_regular(self):
        """`pip install .` in a copy of the checkout's files."""
        src = os.path.join(self.tmp, 'src')
        self.copied_files = _repo_files()
        for relpath in self.copied_files:
            target = os.path.join(src, relpath)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(REPO, relpath), target)
        self._install('.', cwd=src)

    def _install_editable(self):
        """`pip install -e .` in the checkout itself."""
        lock_path = os.path.join(
            tempfile.gettempdir(), 'glance-artifacts-editable-%s.lock'
            % hashlib.sha256(REPO.encode()).hexdigest()[:12])
        with open(lock_path, 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._install('-e', '.', cwd=REPO)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _probe(self, expect_glance=True):
        proc = self._run([self.python, '-c', PROBE] + list(OUR_MODULES)
                         + [GLANCE_ROUTER], check=expect_glance)
        if not expect_glance:
            # Before Glance is installed nothing named glance may import:
            # the overlay must not leak Glance or us into the venv.
            self.assertNotEqual(0, proc.returncode, proc.stdout)
            self.assertIn("No module named 'glance'", proc.stderr)
            return None
        line = [ln for ln in proc.splitlines() if ln.startswith('@@PROBE@@')]
        return json.loads(line[-1][len('@@PROBE@@'):])

    def _record_problems(self, dist_info):
        """Every RECORD entry exists and matches its hash."""
        problems = []
        with open(os.path.join(dist_info, 'RECORD'), newline='') as f:
            for row in csv.reader(f):
                relpath, digest = row[0], row[1]
                path = os.path.normpath(os.path.join(self.site, relpath))
                if not os.path.isfile(path):
                    problems.append('missing: %s' % relpath)
                elif digest and _sha256_record(path) != digest:
                    problems.append('changed: %s' % relpath)
        return problems

    def _pip_show_files(self):
        out = self._pip('show', '-f', DIST)
        lines = out.splitlines()
        start = lines.index('Files:') + 1
        return sorted(ln.strip() for ln in lines[start:] if ln.strip())

    def _console_script_rel(self):
        return os.path.relpath(
            os.path.join(self.venv, 'bin', CONSOLE_SCRIPT), self.site)

    # -- assertions shared by the tests -------------------------------------

    def _assert_glance_intact(self, probe):
        """Glance's files are byte for byte what its wheel installed."""
        self.assertEqual([], self._record_problems(self.glance_dist_info))
        self.assertEqual(os.path.join(self.site, 'glance', '__init__.py'),
                         probe['glance'])
        self.assertEqual(
            {'file': os.path.join(self.site, *GLANCE_ROUTER.split('.'))
             + '.py'},
            probe['modules'][GLANCE_ROUTER])

    def _assert_ours_not_importable(self, probe):
        for name in OUR_MODULES:
            # Missing is the room's package, not glance itself.
            self.assertEqual({'error': 'ModuleNotFoundError',
                              'name': name.rpartition('.')[0]},
                             probe['modules'][name])
        for room in ROOMS:
            self.assertFalse(os.path.exists(os.path.join(self.site, room)),
                             room)

    def _assert_entry_points_and_console_script(self, probe):
        self.assertEqual(_declared_entry_points(), probe['entry_points'])
        declared_types = [ep for ep in _declared_entry_points()
                          if ep[0] == 'glance.artifacts.types']
        self.assertNotEqual([], declared_types)
        self.assertEqual(
            sorted([name, DIST, target.partition(':')[0]]
                   for _, name, target in declared_types),
            probe['types'])
        script = os.path.join(self.venv, 'bin', CONSOLE_SCRIPT)
        out = self._run([script, '--help'])
        self.assertIn('usage: %s' % CONSOLE_SCRIPT, out)

    # -- the tests ----------------------------------------------------------

    def test_pip_install_puts_only_the_three_rooms_next_to_glance(self):
        self._install_regular()

        probe = self._probe()
        for name in OUR_MODULES:
            self.assertEqual(
                {'file': os.path.join(self.site, *name.split('.')) + '.py'},
                probe['modules'][name])
        self._assert_glance_intact(probe)
        # Glance's own files unchanged, ours added only inside the rooms.
        tree = _tree_digest(os.path.join(self.site, 'glance'))
        self.assertEqual(
            self.glance_tree,
            {p: d for p, d in tree.items()
             if not _in_rooms('glance/' + p)})
        # Every file of the rooms in the checkout was installed.
        self.assertEqual(
            sorted(f for f in self.copied_files if _in_rooms(f)),
            sorted('glance/' + p for p in tree
                   if _in_rooms('glance/' + p)))

        outside = [f for f in self._pip_show_files()
                   if not _in_rooms(f)
                   and not re.match(r'glance_artifacts-[^/]+\.dist-info/', f)
                   and f != self._console_script_rel()]
        self.assertEqual([], outside)
        self._assert_entry_points_and_console_script(probe)

    def test_pip_install_editable_imports_the_rooms_from_the_checkout(self):
        self._install_editable()

        probe = self._probe()
        for name in OUR_MODULES:
            self.assertEqual(
                {'file': os.path.join(REPO, *name.split('.')) + '.py'},
                probe['modules'][name])
        self._assert_glance_intact(probe)
        # Nothing of ours went into Glance's package directory.
        self.assertEqual(self.glance_tree,
                         _tree_digest(os.path.join(self.site, 'glance')))
        outside = [f for f in self._pip_show_files()
                   if not re.match(r'glance_artifacts-[^/]+\.dist-info/', f)
                   and not re.match(r'(__pycache__/)?__editable__', f)
                   and f != self._console_script_rel()]
        self.assertEqual([], outside)
        self._assert_entry_points_and_console_script(probe)

    def test_pip_uninstall_after_pip_install_leaves_glance_intact(self):
        self._install_regular()
        self.assertTrue(
            os.path.isdir(os.path.join(self.site, 'glance', 'artifacts')))

        self._pip('uninstall', '-y', DIST)

        probe = self._probe()
        self._assert_ours_not_importable(probe)
        self.assertIsNone(probe['entry_points'])
        self.assertFalse(os.path.exists(
            os.path.join(self.venv, 'bin', CONSOLE_SCRIPT)))
        self._assert_glance_intact(probe)
        self.assertEqual(self.glance_tree,
                         _tree_digest(os.path.join(self.site, 'glance')))

    def test_pip_uninstall_after_editable_install_leaves_glance_intact(self):
        self._install_editable()
        self.assertEqual(1, len(glob.glob(os.path.join(
            self.site, '__editable__.glance_artifacts-*.pth'))))

        self._pip('uninstall', '-y', DIST)

        probe = self._probe()
        self._assert_ours_not_importable(probe)
        self.assertIsNone(probe['entry_points'])
        self.assertEqual([], [n for n in os.listdir(self.site)
                              if 'glance_artifacts' in n])
        self.assertFalse(os.path.exists(
            os.path.join(self.venv, 'bin', CONSOLE_SCRIPT)))
        self._assert_glance_intact(probe)
        self.assertEqual(self.glance_tree,
                         _tree_digest(os.path.join(self.site, 'glance')))
        # The uninstall removed the finder, not the checkout's sources.
        for name in OUR_MODULES:
            self.assertTrue(os.path.isfile(
                os.path.join(REPO, *name.split('.')) + '.py'), name)
