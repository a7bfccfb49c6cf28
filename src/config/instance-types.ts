/**
 * Azure VM sizes an online deployment may name, with their vCPUs and memory (Azure's published
 * sizes for the Dv2/DSv2, Fsv2, Esv3 and Dasv4 series). pier limits each instance to that memory.
 */
export interface InstanceType {
  name: string;
  vcpus: number;
  memoryGiB: number;
}

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
  { name: "Standard_D2as_v4", vcpus: 2, memoryGiB: 8 },
  { name: "Standard_D4as_v4", vcpus: 4, memoryGiB: 16 },
];

export function findInstanceType(name: string): InstanceType | undefined {
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
