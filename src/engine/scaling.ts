/**
 * Target-utilization autoscaling, as a Kubernetes online deployment's scale_settings say it
 * (min_instances, max_instances, polling_interval, target_utilization_percentage), on one machine.
 *
 * Every polling interval the autoscaler reads two utilizations of the deployment's instances and
 * scales on the higher:
 * - request slots: requests in flight or queued, averaged over the interval, against
 *   instances × max_concurrent_requests_per_instance (what KServe's KPA and Ray Serve scale on);
 * - CPU: the CPU time the instances' processes used over the interval, against their CPU request
 *   (resources.requests.cpu, else the instance type's vCPUs, at most this machine's), as Azure's
 *   Kubernetes autoscaler (a HorizontalPodAutoscaler) reads it.
 *
 * It scales as the HorizontalPodAutoscaler does: desired = ceil(current × utilization / target),
 * nothing within 10 % of the target, between min and max. Up at once; down only to the highest count
 * wanted over the last SCALE_DOWN_POLLS intervals, so that a pause in the load does not take away
 * instances it comes back to. An instance that leaves takes no new requests, finishes the ones it
 * has (at most request_timeout_ms), then stops.
 */
import { type ScaleRule, scaleRuleOf } from "../config/index.js";
import type { Instance } from "./instance.js";
import { treeCpuTicks } from "./proc.js";
import type { LiveDeployment } from "./routing.js";

/** How far from the target utilization may be before the count changes (the HPA's default tolerance). */
const TOLERANCE = 0.1;
/** How many polling intervals the count must have been wanted lower before it goes down. */
export const SCALE_DOWN_POLLS = 10;
/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** What one polling interval showed: utilization of request slots and of requested CPU (fractions). */
export interface Utilization {
  slots: number;
  cpu: number;
}

/** The count the utilization asks for: the HPA's rule, within min and max. */
export function desiredInstances(current: number, utilization: Utilization, rule: ScaleRule): number {
  const used = Math.max(utilization.slots, utilization.cpu);
  const ratio = used / rule.target;
  const wanted = Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(current * ratio - 1e-9);
  return Math.min(rule.max, Math.max(rule.min, wanted));
}

/**
 * The count to run after this interval, given what each recent interval wanted: up to the newest
 * wish at once, down only to the highest of the last SCALE_DOWN_POLLS wishes.
 */
export function nextCount(current: number, recentWishes: readonly number[]): number {
  const newest = recentWishes.at(-1) ?? current;
  if (newest >= current) return newest;
  if (recentWishes.length < SCALE_DOWN_POLLS) return current;
  return Math.max(...recentWishes.slice(-SCALE_DOWN_POLLS));
}

/** A change the autoscaler made, for the deployment's events. */
export interface ScaleChange {
  from: number;
  to: number;
  slots: number;
  cpu: number;
  /** Why: which utilization against which target. */
  why: string;
}

interface Watch {
  /** The deployment's rule (its spec does not change within a generation). */
  rule: ScaleRule;
  since: number;
  demandArea: number;
  cpuTicks: number;
  wishes: number[];
  /** A change under way (instances starting or leaving): no other until it ends. */
  busy: boolean;
}

/** How a LiveDeployment's instances change: what the deployments module does with them. */
export interface ScaleHooks {
  onChange(live: LiveDeployment<Instance>, change: ScaleChange): void;
  onStartFailed(live: LiveDeployment<Instance>, instance: Instance, error: unknown): void;
}

export class Autoscaler {
  readonly #watches = new WeakMap<LiveDeployment<Instance>, Watch>();
  /** Instances taken out of a deployment that finish their requests before they stop. */
  readonly #leaving = new Set<Instance>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lives: () => LiveDeployment<Instance>[],
    private readonly hooks: ScaleHooks,
  ) {}

  /** Starts polling (every quarter second: each deployment is read on its own polling interval). */
  start(): void {
    this.#timer ??= setInterval(() => this.poll(performance.now()), 250);
    this.#timer.unref();
  }

  /** Reads every scaling deployment whose polling interval has passed, and scales it. */
  poll(now: number): void {
    for (const live of this.lives()) {
      if (!live.newInstance) continue;
      let watch = this.#watches.get(live);
      if (!watch) {
        const rule = scaleRuleOf(live.record.spec);
        if (!rule) continue;
        watch = {
          rule,
          since: now,
          demandArea: live.admission.demandArea(),
          cpuTicks: cpuOf(live.instances),
          wishes: [],
          busy: false,
        };
        this.#watches.set(live, watch);
        continue;
      }
      const { rule } = watch;
      const elapsed = now - watch.since;
      if (elapsed < rule.pollingMs || watch.busy) continue;
      const area = live.admission.demandArea();
      const ticks = cpuOf(live.instances);
      const current = live.instances.length;
      const maxConcurrent = live.record.spec.request_settings.max_concurrent_requests_per_instance;
      const utilization: Utilization = {
        slots: (area - watch.demandArea) / elapsed / (current * maxConcurrent),
        cpu:
          Math.max(0, ticks - watch.cpuTicks) /
          TICKS_PER_SECOND /
          (elapsed / 1000) /
          (current * rule.cpuCores),
      };
      Object.assign(watch, { since: now, demandArea: area, cpuTicks: ticks });
      watch.wishes.push(desiredInstances(current, utilization, rule));
      if (watch.wishes.length > SCALE_DOWN_POLLS) watch.wishes.shift();
      const next = nextCount(current, watch.wishes);
      if (next === current) continue;
      const change: ScaleChange = {
        from: current,
        to: next,
        ...utilization,
        why: `${utilization.slots >= utilization.cpu ? `request slots ${percent(utilization.slots)}` : `CPU ${percent(utilization.cpu)}`} used against a target of ${percent(rule.target)}`,
      };
      watch.busy = true;
      const done = () => {
        // The next interval starts when the change ends, with the instances there are then (a new
        // instance's CPU for loading its model is not load).
        Object.assign(watch, {
          busy: false,
          wishes: [],
          since: performance.now(),
          demandArea: live.admission.demandArea(),
          cpuTicks: cpuOf(live.instances),
        });
      };
      (next > current
        ? this.#grow(live, next - current, change)
        : this.#shrink(live, current - next, change)
      ).then(done, done);
    }
  }

  async #grow(live: LiveDeployment<Instance>, count: number, change: ScaleChange): Promise<void> {
    const added = Array.from({ length: count }, () => live.newInstance!());
    live.instances = [...live.instances, ...added];
    this.hooks.onChange(live, change);
    await Promise.all(
      added.map(async (instance) => {
        try {
          await instance.start();
        } catch (error) {
          live.instances = live.instances.filter((i) => i !== instance);
          this.hooks.onStartFailed(live, instance, error);
          await instance.stop(1000);
        }
      }),
    );
  }

  async #shrink(live: LiveDeployment<Instance>, count: number, change: ScaleChange): Promise<void> {
    const leaving = live.instances.slice(-count);
    live.instances = live.instances.slice(0, -count);
    this.hooks.onChange(live, change);
    const deadline = performance.now() + live.record.spec.request_settings.request_timeout_ms;
    await Promise.all(
      leaving.map(async (instance) => {
        this.#leaving.add(instance);
        while (instance.inFlight > 0 && performance.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        await instance.stop();
        this.#leaving.delete(instance);
      }),
    );
  }

  /** Stops polling, and stops the instances that were leaving. */
  async shutdown(graceMs: number): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#leaving].map((i) => i.stop(graceMs)));
  }
}

const cpuOf = (instances: readonly Instance[]): number =>
  instances.reduce((sum, i) => sum + (i.pid ? treeCpuTicks(i.pid) : 0), 0);

const percent = (fraction: number): string => `${Math.round(fraction * 100)} %`;
