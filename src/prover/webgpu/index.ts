// The WebGPU side of the prover: device, helpers for kernel hosts, G1 MSM, CPU reference.
export { getGpu, isSoftwareAdapter, type GpuContext, type GetGpuOptions } from './device.js';
export { chooseWindow, gpuMsmG1, maxChunkPoints, releaseMsmWorkspace, uploadBasesG1, type GpuBases, type MsmOptions } from './msm.js';
