import { startMosquitto, type RunningMosquitto } from '../examples/scaled-out/src/mosquitto.js';

export type TestMosquitto = RunningMosquitto;

/** A real mosquitto 2 with its dynamic security plugin on a free port, in a temporary directory. */
export const startTestMosquitto = (): Promise<TestMosquitto> => startMosquitto();
