/**
 * Polarization states as SODA 1.0 §3.3.6 POL and SIA 2.0 §2.1.4 POL take them: the ObsCore 1.1
 * pol_states vocabulary (Stokes, circular, linear, and polarized intensity/angle).
 */
export const STOKES_LABELS = ['I', 'Q', 'U', 'V', 'RR', 'LL', 'RL', 'LR', 'XX', 'YY', 'XY', 'YX', 'POLI', 'POLA'] as const;

export type StokesLabel = (typeof STOKES_LABELS)[number];
