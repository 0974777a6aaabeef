// End-to-end tests boot real servers and processes: give them time.
jest.setTimeout(30_000);
