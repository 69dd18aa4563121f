import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A built distribution file: its name, bytes and sha256, and (wheels) its METADATA for PEP 658. */
export interface Distribution {
  filename: string;
  bytes: Buffer;
  sha256: string;
  metadata?: Buffer;
}

// Wheels are zipped by hand (a dist-info and one module), sdists are tarred by
// hand with a tiny in-tree PEP 517 backend that only prepares metadata: no
// build tools or network are needed (the machine has setuptools but not the
// wheel package, without which setuptools cannot prepare metadata).
const script = String.raw`
import base64, hashlib, io, json, sys, tarfile, zipfile
spec = json.loads(sys.argv[1])
name, version, out = spec["name"], spec["version"], spec["out"]
mod = name.replace("-", "_")
meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
for r in spec["requires"]:
    meta += "Requires-Dist: %s\n" % r
if spec["kind"] == "wheel":
    di = "%s-%s.dist-info" % (mod, version)
    files = {
        "%s/__init__.py" % mod: "VERSION = %r\n" % version,
        di + "/METADATA": meta,
        di + "/WHEEL": "Wheel-Version: 1.0\nGenerator: orchard-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (path, digest, len(data))
    record += di + "/RECORD,,\n"
    files[di + "/RECORD"] = record
    fn = "%s-%s-py3-none-any.whl" % (mod, version)
    with zipfile.ZipFile(out + "/" + fn, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            z.writestr(path, text)
    open(out + "/" + fn + ".METADATA", "w").write(meta)
else:
    root = "%s-%s" % (mod, version)
    files = {
        root + "/pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        # A metadata-only PEP 517 backend: the tests only pip-download sdists,
        # which asks for metadata (prepare_metadata_for_build_wheel). Nothing may
        # build a wheel from it, so build_wheel fails loudly instead of faking one.
        root + "/backend.py": "import os\nMETA = %r\nDI = %r\ndef get_requires_for_build_wheel(config_settings=None):\n    return []\ndef prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):\n    os.makedirs(os.path.join(metadata_directory, DI))\n    open(os.path.join(metadata_directory, DI, 'METADATA'), 'w').write(META)\n    return DI\ndef build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    raise NotImplementedError('metadata only')\n" % (meta, "%s-%s.dist-info" % (mod, version)),
        root + "/PKG-INFO": meta,
        root + "/%s/__init__.py" % mod: "VERSION = %r\n" % version,
    }
    fn = root + ".tar.gz"
    with tarfile.open(out + "/" + fn, "w:gz") as t:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
print(fn)
`;

/** Build a pure-Python wheel or sdist of `name` `version` into `dir`. */
export function buildDistribution(opts: {
  dir: string;
  kind: 'wheel' | 'sdist';
  name: string;
  version: string;
  requires?: string[];
}): Distribution {
  const spec = {
    kind: opts.kind,
    name: opts.name,
    version: opts.version,
    requires: opts.requires ?? [],
    out: opts.dir,
  };
  const filename = execFileSync('python3', ['-c', script, JSON.stringify(spec)], { encoding: 'utf8' }).trim();
  const bytes = readFileSync(join(opts.dir, filename));
  const metadata = opts.kind === 'wheel' ? readFileSync(join(opts.dir, `${filename}.METADATA`)) : undefined;
  return { filename, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), metadata };
}
