/**
 * TEST FAKE — an in-process stand-in for the Kubernetes API server, used
 * because no kube-apiserver binary can be had on the test machines. See
 * README.md for what it implements and its documented deviations.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { FakeObjects } from './objects.ts';
import { FakeApiServer, type FakeApiServerOptions } from './server.ts';

export { FakeObjects, type ObjectRef } from './objects.ts';
export { FakeApiServer, type FakeApiServerOptions, type RecordedRequest } from './server.ts';
export type { KubeObject } from './store.ts';

export interface FakeCluster {
  server: FakeApiServer;
  objects: FakeObjects;
  /** A client-node KubeConfig pointing at the fake (plain HTTP; the token only labels requests). */
  kubeConfig(token?: string): KubeConfig;
  close(): Promise<void>;
}

export async function startFakeCluster(opts: FakeApiServerOptions = {}): Promise<FakeCluster> {
  const server = await FakeApiServer.start(opts);
  return {
    server,
    objects: new FakeObjects(server.store),
    kubeConfig: (token) => kubeConfigFor(server.url, token),
    close: () => server.close(),
  };
}

export function kubeConfigFor(url: string, token = 'fake-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: 'orchard-system' }],
    currentContext: 'fake',
  });
  return kc;
}
