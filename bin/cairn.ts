#!/usr/bin/env -S node --max-old-space-size=1536
import { main } from '../src/cli/main.ts'

process.exitCode = await main(process.argv.slice(2))
