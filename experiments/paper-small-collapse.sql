-- The collapse table of the README's Results: cosine similarity between the inputs of
-- consecutive sublayers k and k+1 at the last step, mean over the reported seeds 1-3
-- (each variant at its chosen lr: only those runs have seeds 1-3; experiments/paper-small.json).
-- hcx query --db results/hcx.db "$(cat experiments/paper-small-collapse.sql)"
WITH v AS (
  SELECT r.id,
    (SELECT value FROM run_params WHERE run_id = r.id AND key = 'residual.kind') AS kind,
    (SELECT value FROM run_params WHERE run_id = r.id AND key = 'residual.n') AS n,
    (SELECT value FROM run_params WHERE run_id = r.id AND key = 'residual.dynamic') AS dyn
  FROM runs r JOIN sweep_runs s ON s.run_id = r.id JOIN sweeps w ON w.id = s.sweep_id
  WHERE w.name = 'paper-small' AND r.status = 'completed'
    AND (SELECT value FROM run_params WHERE run_id = r.id AND key = 'seed') IN ('1', '2', '3'))
SELECT l.layer AS k,
  printf('%.3f', avg(CASE WHEN v.kind = 'pre_norm' AND l.name = 'cos/median' THEN l.value END)) AS pre_norm_median,
  printf('%.3f', avg(CASE WHEN v.kind = 'pre_norm' AND l.name = 'cos/p5' THEN l.value END)) AS pre_norm_p5,
  printf('%.3f', avg(CASE WHEN v.kind = 'hc' AND v.n = '4' AND v.dyn = 'true' AND l.name = 'cos/median' THEN l.value END)) AS dhc4_median,
  printf('%.3f', avg(CASE WHEN v.kind = 'hc' AND v.n = '4' AND v.dyn = 'true' AND l.name = 'cos/p5' THEN l.value END)) AS dhc4_p5,
  printf('%.3f', avg(CASE WHEN v.kind = 'mhc' AND l.name = 'cos/median' THEN l.value END)) AS mhc4_median,
  printf('%.3f', avg(CASE WHEN v.kind = 'mhc' AND l.name = 'cos/p5' THEN l.value END)) AS mhc4_p5
FROM layer_stats l JOIN v ON v.id = l.run_id
WHERE l.name IN ('cos/median', 'cos/p5') AND l.step = 1000
GROUP BY l.layer ORDER BY l.layer
