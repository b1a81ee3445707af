-- One merged release's lineage row; every value bound.
INSERT INTO dp_release
VALUES ($agency, $month, $epsilon, $delta, $k, $mechanism, $cells, $suppressed_cells, $referrals, $checksum,
        $source_path, $received_at)
