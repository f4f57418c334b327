"""CS-Cart edge: REST client, simulator and the smile_bridge add-on."""
