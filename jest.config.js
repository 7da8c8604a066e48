// The root run used by `npm test`: every workspace as a jest project, one process pool.
module.exports = {
  projects: ['<rootDir>/tools/*', '<rootDir>/packages/*', '<rootDir>/apps/*'],
};
