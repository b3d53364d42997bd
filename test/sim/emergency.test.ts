import { simulationTest } from './suite.ts';

// Every run of these makes an emergency validator-set transition before the heal
// (emergency.ts): the survivors restart under a new set for the height they were running.
simulationTest(1, { emergencies: true });
simulationTest(4, { emergencies: true });
simulationTest(7, { emergencies: true });
