import { simulationTest } from './suite.ts';

simulationTest(7);
