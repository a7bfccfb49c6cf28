/**
 * Azure VM sizes an online deployment may name, with their vCPUs, memory and GPUs (Azure's published
 * sizes for the Dv2/DSv2, Fsv2, Esv3 and Dasv4 series, and the NC, ND and NV GPU series managed online
 * endpoints offer). pier limits each instance to that memory; a GPU size runs on this machine's CPU.
 */
export interface InstanceType {
  name: string;
  vcpus: number;
  memoryGiB: number;
  /** GPUs of the size (absent for CPU sizes). */
  gpus?: number;
  gpuModel?: string;
}

/**
 * What a Kubernetes deployment without instance_type gets: Azure ML's defaultinstancetype on an
 * attached cluster (limits of 2 CPUs and 2 GiB).
 */
const KUBERNETES_DEFAULT_INSTANCE_TYPE: InstanceType = {
  name: "defaultinstancetype",
  vcpus: 2,
  memoryGiB: 2,
};

export const INSTANCE_TYPES: readonly InstanceType[] = [
  { name: "Standard_DS1_v2", vcpus: 1, memoryGiB: 3.5 },
  { name: "Standard_DS2_v2", vcpus: 2, memoryGiB: 7 },
  { name: "Standard_DS3_v2", vcpus: 4, memoryGiB: 14 },
  { name: "Standard_DS4_v2", vcpus: 8, memoryGiB: 28 },
  { name: "Standard_DS5_v2", vcpus: 16, memoryGiB: 56 },
  { name: "Standard_F2s_v2", vcpus: 2, memoryGiB: 4 },
  { name: "Standard_F4s_v2", vcpus: 4, memoryGiB: 8 },
  { name: "Standard_F8s_v2", vcpus: 8, memoryGiB: 16 },
  { name: "Standard_F16s_v2", vcpus: 16, memoryGiB: 32 },
  { name: "Standard_E2s_v3", vcpus: 2, memoryGiB: 16 },
  { name: "Standard_E4s_v3", vcpus: 4, memoryGiB: 32 },
  { name: "Standard_E8s_v3", vcpus: 8, memoryGiB: 64 },
  { name: "Standard_E16s_v3", vcpus: 16, memoryGiB: 128 },
  { name: "Standard_E32s_v3", vcpus: 32, memoryGiB: 256 },
  { name: "Standard_E64s_v3", vcpus: 64, memoryGiB: 432 },
  { name: "Standard_F32s_v2", vcpus: 32, memoryGiB: 64 },
  { name: "Standard_D2as_v4", vcpus: 2, memoryGiB: 8 },
  { name: "Standard_D4as_v4", vcpus: 4, memoryGiB: 16 },
  { name: "Standard_D8as_v4", vcpus: 8, memoryGiB: 32 },
  { name: "Standard_D16as_v4", vcpus: 16, memoryGiB: 64 },
  { name: "Standard_D32as_v4", vcpus: 32, memoryGiB: 128 },
  { name: "Standard_NC6s_v3", vcpus: 6, memoryGiB: 112, gpus: 1, gpuModel: "V100" },
  { name: "Standard_NC12s_v3", vcpus: 12, memoryGiB: 224, gpus: 2, gpuModel: "V100" },
  { name: "Standard_NC24s_v3", vcpus: 24, memoryGiB: 448, gpus: 4, gpuModel: "V100" },
  { name: "Standard_NC4as_T4_v3", vcpus: 4, memoryGiB: 28, gpus: 1, gpuModel: "T4" },
  { name: "Standard_NC8as_T4_v3", vcpus: 8, memoryGiB: 56, gpus: 1, gpuModel: "T4" },
  { name: "Standard_NC16as_T4_v3", vcpus: 16, memoryGiB: 110, gpus: 1, gpuModel: "T4" },
  { name: "Standard_NC64as_T4_v3", vcpus: 64, memoryGiB: 440, gpus: 4, gpuModel: "T4" },
  { name: "Standard_NC24ads_A100_v4", vcpus: 24, memoryGiB: 220, gpus: 1, gpuModel: "A100" },
  { name: "Standard_NC48ads_A100_v4", vcpus: 48, memoryGiB: 440, gpus: 2, gpuModel: "A100" },
  { name: "Standard_NC96ads_A100_v4", vcpus: 96, memoryGiB: 880, gpus: 4, gpuModel: "A100" },
  { name: "Standard_ND40rs_v2", vcpus: 40, memoryGiB: 672, gpus: 8, gpuModel: "V100" },
  { name: "Standard_NV12s_v3", vcpus: 12, memoryGiB: 112, gpus: 1, gpuModel: "M60" },
];

export function findInstanceType(name: string): InstanceType | undefined {
  if (name.toLowerCase() === KUBERNETES_DEFAULT_INSTANCE_TYPE.name) return KUBERNETES_DEFAULT_INSTANCE_TYPE;
  return INSTANCE_TYPES.find((t) => t.name.toLowerCase() === name.toLowerCase());
}

/** Parses Kubernetes-style memory quantities ("512Mi", "8Gi", "1G") into bytes. */
export function parseMemoryQuantity(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(text.trim());
  if (!match) return undefined;
  const units: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(match[1]) * (match[2] ? units[match[2]]! : 1));
}
