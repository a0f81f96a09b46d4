/**
 * docker-compose.yml without Docker: the file is parsed, the init service's command runs first, then every cairn
 * service's command runs as a local process with that service's environment, its volumes mapped to a temporary
 * directory, service hostnames to 127.0.0.1 and container ports to distinct free ports. The network must form.
 * Prometheus and Grafana are not run; their configuration is checked against the services and the metrics.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { NODE_FLAGS } from '../../src/cli/nodeFlags.ts'
import { NodeMetrics } from '../../src/metrics/metrics.ts'
import { ROOT, tempDir } from '../helpers.ts'
import { headsAgree, rpc, transferIsSealed, waitFor } from './networkChecks.ts'
import { parseYamlSubset } from './yamlSubset.ts'
import type { YamlValue } from './yamlSubset.ts'

interface Service {
  image?: string
  entrypoint?: string[]
  command?: string[]
  environment?: Record<string, string>
  volumes?: string[]
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
}

const readYaml = (rel: string) => parseYamlSubset(readFileSync(join(ROOT, rel), 'utf8')) as any
const compose = readYaml('docker-compose.yml') as { services: Record<string, Service>; volumes: Record<string, unknown> }
const CAIRN_IMAGE = 'cairn:local'
const cairnServices = Object.entries(compose.services).filter(([, s]) => s.image === CAIRN_IMAGE)
/** flags whose value is a port this service listens on */
const PORT_FLAGS = new Set(['--port', '--http.port', '--ws.port', '--metrics.port'])
const ADDR_FLAGS = new Set(['--addr', '--http.addr', '--ws.addr', '--metrics.addr'])

/** The image's ENTRYPOINT and WORKDIR, from the Dockerfile. */
function dockerfile(): { entrypoint: string[]; workdir: string } {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  return { entrypoint: JSON.parse(/^ENTRYPOINT (.+)$/m.exec(text)![1]), workdir: /^WORKDIR (\S+)$/m.exec(text)![1] }
}

/**
 * `count` distinct free ports: every probe stays bound until all are chosen, as one closed before the next would let
 * the system hand the same port out twice.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))))
  const ports = servers.map((server) => (server.address() as AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

/** How the local run stands in for Docker: volume targets as directories, each service's ports as free ports. */
interface LocalMapping {
  mounts: Map<string, string>
  ports: Map<string, Map<number, number>>
}

/** The container ports a service listens on: the port flags' values and a listen multiaddr's /tcp/ part. */
function listenPorts(args: string[]): number[] {
  const ports: number[] = []
  args.forEach((a, i) => {
    if (PORT_FLAGS.has(args[i - 1])) ports.push(Number(a))
    const m = /^\/ip4\/0\.0\.0\.0\/tcp\/(\d+)$/.exec(a)
    if (m) ports.push(Number(m[1]))
  })
  return ports
}

/** One argument or environment value of `service` as the local run needs it. */
function localize(value: string, service: string, previous: string | undefined, map: LocalMapping): string {
  const own = map.ports.get(service)!
  if (previous !== undefined && PORT_FLAGS.has(previous)) return String(own.get(Number(value)))
  if (previous !== undefined && ADDR_FLAGS.has(previous) && value === '0.0.0.0') return '127.0.0.1'
  let v = value.replace(/^\/ip4\/0\.0\.0\.0\/tcp\/(\d+)$/, (_, p) => `/ip4/127.0.0.1/tcp/${own.get(Number(p))}`)
  v = v.replace(/\/dns4\/([\w-]+)\/tcp\/(\d+)/g, (_, host, p) => {
    const port = map.ports.get(host)?.get(Number(p))
    assert.ok(port !== undefined, `${service} refers to ${host}:${p}, which no service listens on`)
    return `/ip4/127.0.0.1/tcp/${port}`
  })
  for (const [target, dir] of map.mounts) if (v === target || v.startsWith(`${target}/`)) v = dir + v.slice(target.length)
  return v
}

/** Services in the order compose starts them (depends_on). */
function startOrder(names: string[]): string[] {
  const order: string[] = []
  const visit = (name: string) => {
    if (order.includes(name)) return
    for (const dep of Object.keys(compose.services[name].depends_on ?? {})) if (names.includes(dep)) visit(dep)
    order.push(name)
  }
  names.forEach(visit)
  return order
}

interface Running {
  child: ChildProcess
  log: () => string
  exited: Promise<number | null>
}

function startService(t: TestContext, name: string, map: LocalMapping): Running {
  const service = compose.services[name]
  const image = dockerfile()
  const args = [...(service.entrypoint ?? image.entrypoint), ...(service.command ?? [])].map((a, i, all) => localize(a, name, all[i - 1], map))
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PATH: `${dirname(process.execPath)}:${process.env.PATH}` }
  for (const [k, v] of Object.entries(service.environment ?? {})) env[k] = localize(v, name, undefined, map)
  // the image's WORKDIR holds this checkout's bin/, src/ and deploy/; `node` on PATH is the Node 24 running the tests
  const child = spawn(args[0] === 'node' ? process.execPath : args[0], args.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (d) => (log += d))
  child.stderr!.on('data', (d) => (log += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => child.kill('SIGKILL'))
  return { child, log: () => log, exited }
}

/** The metric names a PromQL expression uses, without histogram suffixes. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(cairn_\w+)/g)].map((m) => m[1].replace(/_(bucket|count|sum)$/, ''))
}

describe('YAML subset parser', () => {
  it('reads nested mappings, sequences of scalars and of mappings, quoted and flow scalars, comments', () => {
    const doc = parseYamlSubset(`# top
name: x   # trailing
a:
  b: "q # not a comment"
  c: 'it''s'
  list:
    - "one:1"
    - 2
    - true
  flow: ["x", "y"]
  empty: {}
  nothing:
items:
  - job: "j"
    targets: ["h:1"]
  - plain value
`)
    assert.deepEqual(doc, {
      name: 'x',
      a: { b: 'q # not a comment', c: "it's", list: ['one:1', 2, true], flow: ['x', 'y'], empty: {}, nothing: null },
      items: [{ job: 'j', targets: ['h:1'] }, 'plain value'],
    } satisfies YamlValue)
  })

  it('refuses what it does not implement, naming the line', () => {
    assert.throws(() => parseYamlSubset('a: &anchor 1'), /line 1: unsupported/)
    assert.throws(() => parseYamlSubset('a: |\n  text'), /line 1: unsupported/)
    assert.throws(() => parseYamlSubset('a: 1\na: 2'), /line 2: duplicate key "a"/)
    assert.throws(() => parseYamlSubset('a:\n  - 1\n  b: 2'), /line 3/)
    assert.throws(() => parseYamlSubset('a: [1,\n  2]'), /line 1: expected a JSON/)
  })
})

describe('docker-compose.yml', () => {
  it('declares init, a bootnode, three sealers and a worker on the cairn image, plus Prometheus and Grafana', () => {
    assert.deepEqual(cairnServices.map(([n]) => n), ['init', 'bootnode', 'sealer1', 'sealer2', 'sealer3', 'worker'])
    assert.deepEqual(compose.services.worker.ports, ['8545:8545', '8546:8546'])
    for (const [name, s] of cairnServices) {
      assert.ok(s.volumes?.includes('network:/network'), `${name} mounts the network volume`)
      if (name !== 'init') assert.equal(s.depends_on?.init.condition, 'service_completed_successfully', `${name} waits for init`)
    }
    assert.ok('network' in compose.volumes)
    assert.deepEqual(dockerfile(), { entrypoint: ['node', ...NODE_FLAGS, 'bin/cairn.ts'], workdir: '/app' })
    assert.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), /^FROM node:24-slim$/m)
    assert.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), /^USER node$/m)
  })

  it('has Prometheus scrape every node serving metrics, and Grafana read Prometheus with a dashboard on existing metrics', () => {
    const metricsTargets = cairnServices
      .filter(([, s]) => s.command?.includes('--metrics'))
      .map(([name, s]) => `${name}:${s.command![s.command!.indexOf('--metrics.port') + 1]}`)
    const prometheus = readYaml('deploy/prometheus.yml')
    assert.deepEqual(prometheus.scrape_configs.flatMap((c: any) => c.static_configs.flatMap((s: any) => s.targets)), metricsTargets)
    assert.ok(compose.services.prometheus.volumes!.includes('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro'))

    const datasource = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml').datasources[0]
    assert.equal(datasource.url, `http://prometheus:${compose.services.prometheus.ports![0].split(':')[1]}`)
    const provider = readYaml('deploy/grafana/provisioning/dashboards/cairn.yml').providers[0]
    assert.ok(compose.services.grafana.volumes!.includes(`./deploy/grafana/dashboards:${provider.options.path}:ro`))

    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/dashboards/cairn.json'), 'utf8'))
    const known = new NodeMetrics({ chain: Object.assign(new EventEmitter(), { heads: () => ({ latest: { number: 0n } }) }) as never })
    const names = new Set(known.registry.getMetricsAsArray().map((m) => m.name))
    known.close()
    const used = dashboard.panels.flatMap((p: any) => p.targets.flatMap((q: any) => metricNames(q.expr)))
    assert.ok(used.length >= 8)
    for (const name of used) assert.ok(names.has(name), `the dashboard queries ${name}, which cairn does not export`)
    for (const p of dashboard.panels) assert.equal(p.datasource.uid, datasource.uid)
  })

  it('forms the network when its cairn services run as local processes: heads agree, the worker answers and its transactions are sealed', { timeout: 150_000 }, async (t) => {
    const root = tempDir(t, 'cairn-compose-')
    const map: LocalMapping = { mounts: new Map(), ports: new Map() }
    const free = await freePorts(cairnServices.reduce((n, [, s]) => n + listenPorts(s.command ?? []).length, 0))
    for (const [name, s] of cairnServices) {
      for (const v of s.volumes ?? []) {
        const [volume, target] = v.split(':')
        const dir = join(root, volume)
        mkdirSync(dir, { recursive: true })
        map.mounts.set(target, dir)
      }
      const ports = new Map<number, number>()
      for (const p of listenPorts(s.command ?? [])) ports.set(p, free.pop()!)
      map.ports.set(name, ports)
    }

    const [init, ...rest] = startOrder(cairnServices.map(([n]) => n))
    assert.equal(init, 'init')
    const setup = startService(t, init, map)
    assert.equal(await setup.exited, 0, setup.log())

    const running = new Map(rest.map((name) => [name, startService(t, name, map)]))
    const nodes = rest.filter((n) => n !== 'bootnode')
    for (const [name, r] of running) {
      await waitFor(`${name} to start`, 45_000, async () => (/HTTP server started|Started bootnode/.test(r.log()) ? true : undefined)).catch((err) => {
        throw new Error(`${err.message}\n${r.log()}`)
      })
    }
    const urls = nodes.map((n) => `http://127.0.0.1:${map.ports.get(n)!.get(8545)}`)
    const worker = urls[nodes.indexOf('worker')]
    assert.equal(await rpc(worker, 'eth_chainId'), '0x539')
    assert.equal((await rpc(urls[0], 'clique_getSigners')).length, 3)
    await headsAgree(urls, 2, 45_000)
    const included = await transferIsSealed(worker, 15_000)
    await headsAgree(urls, included, 10_000)
    const workerMetrics = `http://127.0.0.1:${map.ports.get('worker')!.get(6060)}`
    const ready = await fetch(`${workerMetrics}/readiness`)
    assert.equal(ready.status, 200, 'the worker is ready: it has peers and is not behind')
    // the worker imports every block from its peers and sees which sealer signed each
    const text = await (await fetch(`${workerMetrics}/metrics`)).text()
    assert.match(text, /^cairn_block_import_seconds_count [1-9]\d*$/m)
    assert.match(text, /^cairn_p2p_peers [1-9]\d*$/m)
    assert.ok([...text.matchAll(/^cairn_clique_signed_blocks_total\{signer="0x[0-9a-f]{40}"\} [1-9]/gm)].length >= 2, 'blocks come from more than one sealer')
  })
})
