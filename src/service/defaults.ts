// The service's defaults that the command line shows in its help, in a module of their own: the
// CLI reads them without loading the service (BullMQ, ioredis, Fastify).

/** Proof requests per API key (per client address without keys) unless --rate says otherwise. */
export const DEFAULT_RATE = '60/min';
