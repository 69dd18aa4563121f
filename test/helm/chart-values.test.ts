/**
 * What the chart's values do to the rendered manifests: clustered mode,
 * refusals of values that cannot work, Secrets only by reference,
 * persistence, image pinning, the containerd mirror and its DaemonSet, and
 * the monitoring objects.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir, renderChart } from './lib/chart.ts';
import { container, envMap, podSpec } from './lib/manifests.ts';

const backends = {
  database: { host: 'pg.example.internal', existingSecret: 'orchard-db' },
  s3: { bucket: 'orchard', existingSecret: 'orchard-s3' },
  redis: { existingSecret: 'orchard-redis' },
};
const proxyEnv = (values: Record<string, unknown>) =>
  envMap(container(renderChart(values).get('Deployment', 'orchard-proxy')));
const operatorEnv = (values: Record<string, unknown>) =>
  envMap(container(renderChart(values).get('Deployment', 'orchard-operator')));

describe('proxy replicas and ORCHARD_CLUSTERED', () => {
  it.each([
    ['one replica, no autoscaling', { replicas: 1 }, 'false', 1],
    ['two replicas', { replicas: 2, ...backends }, 'true', 2],
    [
      'one replica with autoscaling',
      { replicas: 1, autoscaling: { enabled: true }, ...backends },
      'true',
      undefined,
    ],
  ])('%s -> ORCHARD_CLUSTERED=%s', (_n, proxy, clustered, replicas) => {
    const r = renderChart({ proxy });
    const d = r.get('Deployment', 'orchard-proxy');
    expect(envMap(container(d)).get('ORCHARD_CLUSTERED')?.value).toBe(clustered);
    expect(d.spec.replicas).toBe(replicas);
    expect(r.find('PodDisruptionBudget', 'orchard-proxy')).toHaveLength(clustered === 'true' ? 1 : 0);
  });

  it.each([
    ['no PostgreSQL', { replicas: 2, ...backends, database: { host: '' } }, /needs PostgreSQL/],
    ['no S3', { replicas: 2, ...backends, s3: { bucket: '' } }, /needs S3/],
    ['no Redis', { replicas: 2, ...backends, redis: { existingSecret: '' } }, /needs Redis/],
    ['autoscaling and nothing', { autoscaling: { enabled: true } }, /needs PostgreSQL/],
    [
      'a Redis URL with a password',
      { redis: { url: 'redis://:pw@redis:6379' } },
      /must not hold credentials/,
    ],
    [
      'persistence with two replicas',
      { replicas: 2, ...backends, persistence: { enabled: true } },
      /ReadWriteOnce/,
    ],
    ['an S3 endpoint without bucket', { s3: { endpoint: 'http://s3:9000' } }, /proxy.s3.bucket is required/],
  ])('refuses %s', (_n, proxy, err) => {
    expect(() => renderChart({ proxy })).toThrow(err);
  });

  it('leaves the backend check to the Secret named in envFromSecret', () => {
    const c = container(
      renderChart({ proxy: { replicas: 3, envFromSecret: 'orchard-proxy-env' } }).get(
        'Deployment',
        'orchard-proxy',
      ),
    );
    expect(c.envFrom).toEqual([{ secretRef: { name: 'orchard-proxy-env' } }]);
    expect(envMap(c).get('ORCHARD_CLUSTERED')?.value).toBe('true');
  });
});

describe('backend settings', () => {
  it('maps every database, S3 and Redis value to its ORCHARD_* variable, secrets by reference only', () => {
    const env = proxyEnv({
      proxy: {
        replicas: 2,
        database: {
          host: 'pg',
          port: 6543,
          user: 'u',
          dbname: 'd',
          ssl: true,
          existingSecret: 'db',
          passwordKey: 'pw',
        },
        s3: {
          endpoint: 'http://s3',
          region: 'eu-west-1',
          bucket: 'b',
          forcePathStyle: false,
          existingSecret: 's3',
        },
        redis: { existingSecret: 'rd', urlKey: 'u' },
      },
    });
    const value = (k: string) => env.get(k)?.value;
    expect([
      value('ORCHARD_DATABASE_HOST'),
      value('ORCHARD_DATABASE_PORT'),
      value('ORCHARD_DATABASE_USER'),
      value('ORCHARD_DATABASE_DBNAME'),
      value('ORCHARD_DATABASE_SSL'),
    ]).toEqual(['pg', '6543', 'u', 'd', 'true']);
    expect([value('ORCHARD_S3_ENDPOINT'), value('ORCHARD_S3_REGION'), value('ORCHARD_S3_BUCKET')]).toEqual([
      'http://s3',
      'eu-west-1',
      'b',
    ]);
    expect(value('ORCHARD_S3_FORCE_PATH_STYLE')).toBe('false');
    const ref = (k: string) => env.get(k)?.valueFrom;
    expect(ref('ORCHARD_DATABASE_PASSWORD')).toEqual({ secretKeyRef: { name: 'db', key: 'pw' } });
    expect(ref('ORCHARD_S3_ACCESS_KEY_ID')).toEqual({ secretKeyRef: { name: 's3', key: 'accessKeyId' } });
    expect(ref('ORCHARD_S3_SECRET_ACCESS_KEY')).toEqual({
      secretKeyRef: { name: 's3', key: 'secretAccessKey' },
    });
    expect(ref('ORCHARD_REDIS_URL')).toEqual({ secretKeyRef: { name: 'rd', key: 'u' } });
    for (const [name, e] of env) if (/PASSWORD|SECRET/.test(name)) expect(e.value, name).toBeUndefined();
  });

  it('sets no backend variable by default (embedded PGlite, filesystem, in-process)', () => {
    const names = [...proxyEnv({}).keys()];
    expect(names.filter((n) => /DATABASE|S3|REDIS/.test(n))).toEqual([]);
  });

  it('passes a credential-free Redis URL and S3 without keys (SDK default chain) as plain values', () => {
    const env = proxyEnv({ proxy: { redis: { url: 'redis://redis:6379/0' }, s3: { bucket: 'b' } } });
    expect(env.get('ORCHARD_REDIS_URL')?.value).toBe('redis://redis:6379/0');
    expect(env.has('ORCHARD_S3_ACCESS_KEY_ID')).toBe(false);
    expect(env.has('ORCHARD_S3_ENDPOINT')).toBe(false);
  });

  it('prints large numbers as integers, not in Go float notation', () => {
    const env = proxyEnv({ proxy: { maxUploadBytes: 10737418240, shutdownGraceMs: 25000 } });
    expect(env.get('ORCHARD_MAX_UPLOAD_BYTES')?.value).toBe('10737418240');
    expect(env.get('ORCHARD_SHUTDOWN_GRACE_MS')?.value).toBe('25000');
  });
});

describe('persistence and image', () => {
  it('claims a kept PVC for /data and recreates instead of rolling the single replica', () => {
    const r = renderChart({ proxy: { persistence: { enabled: true, storageClass: 'fast' } } });
    const pvc = r.get('PersistentVolumeClaim', 'orchard-proxy-data');
    expect(pvc.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    expect(pvc.spec.storageClassName).toBe('fast');
    const d = r.get('Deployment', 'orchard-proxy');
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(podSpec(d).volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim).toEqual(
      {
        claimName: 'orchard-proxy-data',
      },
    );
    const existing = renderChart({ proxy: { persistence: { enabled: true, existingClaim: 'mine' } } });
    expect(existing.find('PersistentVolumeClaim')).toEqual([]);
  });

  it.each([
    [{}, 'orchard:0.1.0'],
    [{ image: { repository: 'reg.example/orchard', tag: '1.2.3' } }, 'reg.example/orchard:1.2.3'],
    [{ image: { digest: 'sha256:abc', tag: 'ignored' } }, 'orchard@sha256:abc'],
  ])('image %j -> %s', (values, image) => {
    const r = renderChart(values);
    expect(container(r.get('Deployment', 'orchard-proxy')).image).toBe(image);
    expect(container(r.get('Deployment', 'orchard-operator')).image).toBe(image);
  });
});

describe('containerd mirror', () => {
  it.each([
    ['the node port', { nodePort: { enabled: true, port: 30555 } }, {}, 'http://127.0.0.1:30555'],
    ['the host port', {}, { hostPort: 5000 }, 'http://127.0.0.1:5000'],
    [
      'an explicit URL over the node port',
      { mirrorUrl: 'https://m.example', nodePort: { enabled: true } },
      {},
      'https://m.example',
    ],
    ['the Service without either', {}, {}, 'http://orchard-proxy.orchard-system.svc:8080'],
  ])('the operator writes %s into hosts.toml', (_n, containerd, proxy, url) => {
    expect(operatorEnv({ containerd, proxy }).get('ORCHARD_OPERATOR_MIRROR_URL')?.value).toBe(url);
  });

  it('refuses the DaemonSet when the nodes could not reach the mirror (cluster DNS only)', () => {
    expect(() => renderChart({ containerd: { hostsSync: { enabled: true } } })).toThrow(
      /cannot resolve cluster DNS/,
    );
  });

  it('runs the DaemonSet with the hosts ConfigMap, the certs.d hostPath and nothing more', () => {
    const script = readFileSync(join(chartDir, 'files/containerd-hosts-sync.sh'), 'utf8');
    const r = renderChart({
      containerd: {
        nodePort: { enabled: true },
        hostsSync: { enabled: true, certsDir: '/etc/containerd/certs.d' },
      },
    });
    const ds = r.get('DaemonSet', 'orchard-containerd-hosts-sync');
    const spec = podSpec(ds);
    const c = container(ds);
    expect(r.get('ConfigMap', 'orchard-containerd-hosts-sync').data['sync.sh']).toBe(
      script.replace(/\n$/, ''),
    );
    expect(ds.spec.template.metadata.annotations['checksum/script']).toBe(
      createHash('sha256').update(script).digest('hex'),
    );
    const volumes = Object.fromEntries(spec.volumes.map((v: { name: string }) => [v.name, v]));
    expect(volumes.hosts.configMap).toEqual({ name: 'orchard-containerd-hosts', optional: true });
    expect(volumes['certs-d'].hostPath).toEqual({
      path: '/etc/containerd/certs.d',
      type: 'DirectoryOrCreate',
    });
    expect(spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath)).toHaveLength(1);
    const env = envMap(c);
    const mountOf = (v: string) => c.volumeMounts.find((m: { name: string }) => m.name === v);
    expect(env.get('SRC')?.value).toBe(mountOf('hosts').mountPath);
    expect(env.get('DEST')?.value).toBe(mountOf('certs-d').mountPath);
    expect(mountOf('hosts').readOnly).toBe(true);
    expect(c.command).toEqual(['sh', `${mountOf('script').mountPath}/sync.sh`]);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(c.securityContext).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
  });
});

describe('monitoring objects', () => {
  it('are off by default', () => {
    const r = renderChart({});
    expect([
      ...r.find('ServiceMonitor'),
      ...r.find('PrometheusRule'),
      ...r.find('ConfigMap', 'orchard-dashboard'),
    ]).toEqual([]);
  });

  it('carry the rules file, extra groups, the dashboard JSON and the sidecar label', () => {
    const extra = { name: 'mine', rules: [{ alert: 'Mine', expr: 'vector(1)' }] };
    const r = renderChart({
      metrics: {
        serviceMonitor: { enabled: true, labels: { release: 'prom' } },
        prometheusRule: { enabled: true, additionalGroups: [extra] },
        dashboard: { enabled: true, namespace: 'grafana' },
      },
    });
    const rules = parse(readFileSync(join(chartDir, 'files/prometheus-rules.yaml'), 'utf8'));
    expect(r.get('PrometheusRule', 'orchard').spec.groups).toEqual([...rules, extra]);
    const cm = r.get('ConfigMap', 'orchard-dashboard');
    expect(cm.metadata.namespace).toBe('grafana');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const file = readFileSync(join(chartDir, 'files/dashboards/orchard.json'), 'utf8');
    expect(JSON.parse(cm.data['orchard.json'])).toEqual(JSON.parse(file));
    for (const m of r.find('ServiceMonitor')) expect(m.metadata.labels?.release).toBe('prom');
  });
});
