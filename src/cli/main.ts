#!/usr/bin/env node
import { tuneCliProcess } from './process-tuning.js';

// First, before anything else loads; the rest is imported after it.
tuneCliProcess();
const [{ processOutput }, { main }] = await Promise.all([import('./output.js'), import('./run.js')]);
process.exitCode = await main(process.argv.slice(2), processOutput(), process.env);
