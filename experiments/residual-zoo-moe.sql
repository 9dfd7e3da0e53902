-- The routing of the residual-zoo sweep's MoE runs at their last step (1,200), per FFN sublayer
-- (layer 2i+1 of block i), mean over the 3 seeds: unscaled load-balancing loss (1 = balanced),
-- z-loss, load imbalance (std/mean of the experts' counts; E·max f_e), dead experts, router
-- entropy (ln 8 = 2.079 is uniform), routed mass and drop rate (docs/method.md, "The MoE FFN").
--   hcx query "$(cat experiments/residual-zoo-moe.sql)"
SELECT k.value AS kind, l.layer,
       round(avg(CASE WHEN l.name = 'moe/lb' THEN l.value END), 3) AS lb,
       round(avg(CASE WHEN l.name = 'moe/z' THEN l.value END), 3) AS z,
       round(avg(CASE WHEN l.name = 'moe/load_cv' THEN l.value END), 3) AS load_cv,
       round(avg(CASE WHEN l.name = 'moe/max_load' THEN l.value END), 3) AS max_load,
       round(avg(CASE WHEN l.name = 'moe/dead' THEN l.value END), 2) AS dead,
       round(avg(CASE WHEN l.name = 'moe/entropy' THEN l.value END), 3) AS entropy,
       round(avg(CASE WHEN l.name = 'moe/selected_mass' THEN l.value END), 3) AS mass,
       round(avg(CASE WHEN l.name = 'moe/drop_rate' THEN l.value END), 3) AS drop_rate
FROM layer_stats l
JOIN run_params k ON k.run_id = l.run_id AND k.key = 'residual.kind'
JOIN run_params f ON f.run_id = l.run_id AND f.key = 'model.ffn' AND f.value = 'moe'
JOIN sweep_runs s ON s.run_id = l.run_id
JOIN sweeps w ON w.id = s.sweep_id AND w.name = 'residual-zoo'
WHERE l.step = 1200 AND l.name LIKE 'moe/%'
GROUP BY k.value, l.layer
ORDER BY k.value, l.layer;
