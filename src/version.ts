/** The code version, saved with every model. */
export const VERSION = "0.1.0";
