#!/usr/bin/env node
// Thin launcher (committed, executable) so the bin works before and after `tsc` writes dist/.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
