/**
 * The cluster file a user writes (JSON or YAML), decoded once at the boundary into a
 * `Cluster`. A file names a system preset and a node count, and may override any
 * part of the preset; without a preset it must give the device, devices per node and
 * both links. Quantities are strings with units (`"80GiB"`, `"450GB/s"`, `"1us"`,
 * `"989TFLOPS"`) or numbers in base units (bytes, seconds, bytes/s, FLOP/s).
 *
 * Shape (unknown keys are rejected):
 *
 *     name?: string
 *     system?: <system preset name>
 *     nodes: <whole number>
 *     devicesPerNode?: <whole number>
 *     device?: <device preset name> | { name?, source?, memory, memoryBandwidth, peak: { bf16?, fp8?, ... } }
 *     scaleUp?: { bandwidth?, latency?, inNetworkReduction? }
 *     domain?: { nodes?, bandwidth?, latency?, inNetworkReduction? }
 *     scaleOut?: { bandwidth?, latency?, inNetworkReduction? }
 *     host?: { memory?, bandwidth? }   (memory of one node; each device's link to it, per direction)
 *
 * @example
 * import { readClusterFile } from '@meshplan/topology'
 * readClusterFile('system: dgx-h100\nnodes: 16\nscaleOut: { bandwidth: 25GB/s }\n', 'cluster.yaml')
 * // right(cluster of 128 H100s whose network share is 25e9 B/s per GPU)
 * readClusterFile('system: dgx-h100\nnodes: 0\n', 'cluster.yaml')
 * // left([{ path: 'cluster.nodes', value: 0, expected: 'a positive integer' }])
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as O from 'fp-ts/Option'
import * as t from 'io-ts'
import { closed, closestName, decodeWith, dtypes, parseDocument, physical, physicalCount, physicalQuantity } from '@meshplan/units'
import type { DecodeIssue, Dtype, FlopsPerSecond } from '@meshplan/units'
import type { Cluster, Link } from './cluster'
import type { Device } from './device'
import { clusterOf, deviceNames, devices, latencies, systemNames, systems } from './presets'
import type { DeviceName, HostSpec, System, SystemName, TopologyError } from './presets'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/** A preset name, rejected with the list of known names and the closest one. */
const presetName = <N extends string>(kind: 'device' | 'system', names: ReadonlyArray<N>): t.Type<N, N, unknown> => {
  const is = (u: unknown): u is N => typeof u === 'string' && (names as ReadonlyArray<string>).includes(u)
  const list = names.map((n) => JSON.stringify(n)).join(', ')
  return new t.Type<N, N, unknown>(
    `a ${kind} preset name (one of ${list})`,
    is,
    (u, c) => {
      if (is(u)) return t.success(u)
      const hint = typeof u === 'string' ? O.toUndefined(closestName(names)(u)) : undefined
      return t.failure(u, c, `expected a ${kind} preset name (one of ${list})${hint === undefined ? '' : `; did you mean "${hint}"?`}`)
    },
    (a) => a,
  )
}

/** The name of a system preset. */
export const SystemPresetName = presetName<SystemName>('system', systemNames)

/** The name of a device preset. */
export const DevicePresetName = presetName<DeviceName>('device', deviceNames)

const peakFields = Object.fromEntries(dtypes.map((dtype) => [dtype, physicalQuantity('flopRate', physical.peakRate)])) as {
  readonly [D in Dtype]: t.Type<FlopsPerSecond, string | number, unknown>
}

/** Dense peak compute per numeric format: `{ bf16: "989TFLOPS", fp8: "1979TFLOPS" }`. */
export const PeakSpec = closed({}, peakFields, `an object of dense peak rates per numeric format (${dtypes.join(', ')})`)
export type PeakSpec = t.TypeOf<typeof PeakSpec>

/** A device written out in full. */
export const DeviceSpec = closed(
  { memory: physicalQuantity('bytes', physical.deviceMemory), memoryBandwidth: physicalQuantity('byteRate', physical.bandwidth), peak: PeakSpec },
  { name: t.string, source: t.string, generation: t.keyof({ ampere: null, ada: null, hopper: null, blackwell: null, cdna3: null }) },
  'a device object with fields memory, memoryBandwidth, peak (and optionally name, source, generation: ampere, ada, hopper, blackwell or cdna3)',
)
export type DeviceSpec = t.TypeOf<typeof DeviceSpec>

/** A device preset name or a device written out in full. */
export const DeviceField = new t.Type<DeviceName | DeviceSpec, unknown, unknown>(
  'a device preset name or a device object',
  (u): u is DeviceName | DeviceSpec => DevicePresetName.is(u) || DeviceSpec.is(u),
  (u, c) =>
    typeof u === 'string'
      ? DevicePresetName.validate(u, c)
      : typeof u === 'object' && u !== null && !Array.isArray(u)
        ? DeviceSpec.validate(u, c)
        : t.failure(u, c, `expected a device preset name (one of ${deviceNames.map((n) => JSON.stringify(n)).join(', ')}) or an object with fields memory, memoryBandwidth, peak`),
  (a) => a,
)

const linkFields = {
  bandwidth: physicalQuantity('byteRate', physical.bandwidth),
  latency: physicalQuantity('seconds', physical.latency),
  inNetworkReduction: t.boolean,
}

/** A link, or the fields of a preset's link to override. */
export const LinkSpec = closed({}, linkFields, 'a link object with fields bandwidth, latency, inNetworkReduction')
export type LinkSpec = t.TypeOf<typeof LinkSpec>

/** A node's fabric, or the fields of a preset's to override: `peerBandwidth` makes it a full mesh (one link to each peer, `bandwidth` their sum). */
export const ScaleUpSpec = closed({}, { ...linkFields, peerBandwidth: physicalQuantity('byteRate', physical.bandwidth) }, 'a link object with fields bandwidth, latency, inNetworkReduction, peerBandwidth')
export type ScaleUpSpec = t.TypeOf<typeof ScaleUpSpec>

/** A multi-node scale-up domain, or the fields of a preset's domain to override. */
export const DomainSpec = closed(
  {},
  { nodes: physicalCount(physical.devices), ...linkFields },
  'a domain object with fields nodes, bandwidth, latency, inNetworkReduction',
)
export type DomainSpec = t.TypeOf<typeof DomainSpec>

/** A node's host memory and each device's link to it, or the fields of a preset's to override. */
export const HostFileSpec = closed({}, { memory: physicalQuantity('bytes', physical.hostMemory), bandwidth: physicalQuantity('byteRate', physical.bandwidth) }, 'a host object with fields memory, bandwidth')
export type HostFileSpec = t.TypeOf<typeof HostFileSpec>

/** A user's cluster file, before presets are applied. */
export const ClusterFile = closed(
  { nodes: physicalCount(physical.devices) },
  {
    name: t.string,
    system: SystemPresetName,
    devicesPerNode: physicalCount(physical.devices),
    device: DeviceField,
    scaleUp: ScaleUpSpec,
    domain: DomainSpec,
    scaleOut: LinkSpec,
    host: HostFileSpec,
  },
  'a cluster file object with fields nodes, name, system, devicesPerNode, device, scaleUp, domain, scaleOut, host',
)
export type ClusterFile = t.TypeOf<typeof ClusterFile>

// -------------------------------------------------------------------------------------
// applying presets
// -------------------------------------------------------------------------------------

const root = 'cluster'

const missing = (path: string, expected: string): DecodeIssue => ({ path: `${root}.${path}`, value: undefined, expected })

const deviceOf = (spec: DeviceSpec): Device => ({
  name: spec.name ?? 'custom device',
  memory: spec.memory,
  memoryBandwidth: spec.memoryBandwidth,
  peak: spec.peak,
  source: spec.source ?? 'user cluster file',
  ...(spec.generation === undefined ? {} : { generation: spec.generation }),
})

const peerOf = (override: ScaleUpSpec | LinkSpec | undefined, base: Link | undefined): { readonly peerBandwidth?: Link['bandwidth'] } => {
  const peer = (override !== undefined && 'peerBandwidth' in override ? override.peerBandwidth : undefined) ?? base?.peerBandwidth
  return peer === undefined ? {} : { peerBandwidth: peer }
}

/** Merges `override` over `base`; without a base, `bandwidth` must be given. */
const linkOf = (
  path: string,
  base: Link | undefined,
  override: ScaleUpSpec | LinkSpec | undefined,
  defaultLatency: Link['latency'],
  issues: DecodeIssue[],
): Link | undefined => {
  const bandwidth = override?.bandwidth ?? base?.bandwidth
  if (bandwidth === undefined) {
    issues.push(
      override === undefined
        ? missing(path, `a link object with at least a bandwidth like "450GB/s" (required when no system preset gives it)`)
        : missing(`${path}.bandwidth`, `a bandwidth like "3.35TB/s" or "400Gb/s" (required when no system preset gives it)`),
    )
    return undefined
  }
  return {
    bandwidth,
    latency: override?.latency ?? base?.latency ?? defaultLatency,
    inNetworkReduction: override?.inNetworkReduction ?? base?.inNetworkReduction ?? false,
    ...peerOf(override, base),
  }
}

const issueOfTopologyError = (file: ClusterFile, error: TopologyError): DecodeIssue => {
  switch (error.code) {
    case 'not-a-multiple':
      return {
        path: `${root}.nodes`,
        value: file.nodes,
        expected: `a multiple of ${error.multipleOf} (nodes per scale-up domain) when above ${error.multipleOf}, e.g. ${error.nearest.join(' or ')}`,
      }
    case 'not-a-count':
      return { path: `${root}.${error.field}`, value: error.value, expected: 'a positive integer below 2^53' }
    case 'too-large':
      return { path: `${root}.nodes`, value: file.nodes, expected: `a cluster of at most ${error.limit.toLocaleString('en-US')} devices (${physical.devices.why}); this one has ${error.devices.toLocaleString('en-US')}` }
    case 'unknown-preset':
      return { path: `${root}.${error.kind}`, value: error.name, expected: error.message }
  }
}

/** Applies the file's system preset (if any) and its overrides, and builds the cluster. */
export const clusterOfFile = (file: ClusterFile): E.Either<ReadonlyArray<DecodeIssue>, Cluster> => {
  const preset: System | undefined = file.system === undefined ? undefined : systems[file.system]
  const issues: DecodeIssue[] = []
  const requiredWithoutSystem = '(required when no system preset is given)'

  let device: Device | undefined
  if (file.device === undefined) device = preset?.device
  else if (typeof file.device === 'string') device = devices[file.device]
  else {
    device = deviceOf(file.device)
    if (Object.keys(file.device.peak).length === 0) {
      issues.push({ path: `${root}.device.peak`, value: file.device.peak, expected: `at least one numeric format (${dtypes.join(', ')})` })
    }
  }
  if (device === undefined) issues.push(missing('device', `a device preset name or a device object ${requiredWithoutSystem}`))

  const devicesPerNode = file.devicesPerNode ?? preset?.devicesPerNode
  if (devicesPerNode === undefined) issues.push(missing('devicesPerNode', `a positive integer ${requiredWithoutSystem}`))

  const scaleUp = linkOf('scaleUp', preset?.scaleUp, file.scaleUp, latencies.scaleUpFabric, issues)
  const scaleOut = linkOf('scaleOut', preset?.scaleOut, file.scaleOut, latencies.network, issues)

  let domain: System['domain']
  if (file.domain !== undefined || preset?.domain !== undefined) {
    const nodes = file.domain?.nodes ?? preset?.domain?.nodes
    if (nodes === undefined) issues.push(missing('domain.nodes', 'a positive integer (nodes per scale-up domain)'))
    const link = linkOf('domain', preset?.domain?.link, file.domain, latencies.scaleUpFabric, issues)
    if (nodes !== undefined && link !== undefined) domain = { nodes, link }
  }

  let host: HostSpec | undefined = preset?.host
  if (file.host !== undefined) {
    const memory = file.host.memory ?? preset?.host?.memory
    const bandwidth = file.host.bandwidth ?? preset?.host?.bandwidth
    if (memory === undefined) issues.push(missing('host.memory', 'a size like "2TB" (the host memory of one node; required when no system preset gives it)'))
    if (bandwidth === undefined) issues.push(missing('host.bandwidth', 'a bandwidth like "63GB/s" (each device\'s link to host memory, per direction; required when no system preset gives it)'))
    if (memory !== undefined && bandwidth !== undefined) host = { memory, bandwidth, source: 'user cluster file' }
  }

  if (issues.length > 0 || device === undefined || devicesPerNode === undefined || scaleUp === undefined || scaleOut === undefined) {
    return E.left(issues)
  }
  const system: System = {
    name: file.name ?? preset?.name ?? 'custom cluster',
    device,
    devicesPerNode,
    scaleUp,
    ...(domain === undefined ? {} : { domain }),
    scaleOut,
    ...(host === undefined ? {} : { host }),
    source: preset?.source ?? 'user cluster file',
  }
  return pipe(
    clusterOf(system, file.nodes, file.name),
    E.mapLeft((error) => [issueOfTopologyError(file, error)]),
  )
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Decodes a parsed cluster file (issues rooted at `cluster`). Never throws. */
export const decodeClusterFile = (u: unknown): E.Either<ReadonlyArray<DecodeIssue>, Cluster> =>
  pipe(decodeWith(ClusterFile, root)(u), E.chain(clusterOfFile))

/**
 * Parses the text of a cluster file (YAML for `.yaml`/`.yml`, else JSON) and decodes
 * it; a syntax error becomes one issue at `cluster`. Never throws.
 */
export const readClusterFile = (text: string, fileName: string): E.Either<ReadonlyArray<DecodeIssue>, Cluster> =>
  pipe(
    parseDocument(text, fileName),
    E.mapLeft((error): ReadonlyArray<DecodeIssue> => [
      { path: root, value: text, expected: `well-formed ${error.format.toUpperCase()} (${error.message})` },
    ]),
    E.chain(decodeClusterFile),
  )
