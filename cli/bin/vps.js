#!/usr/bin/env node
// Committed, so that npm links the command before `npm install` has built dist/ (its prepare runs after).
import "../dist/main.js";
