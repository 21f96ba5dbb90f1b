/** The Redis generation (META.epoch) of the reference server's scratch activity: admission requires one. */
export const REFERENCE_EPOCH = 1;
