/** The project configuration file read from the working directory unless `--config FILE` names another. */
export const CONFIG_FILE = 'authdb.config.json';
