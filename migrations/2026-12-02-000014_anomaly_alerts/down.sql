DROP TABLE anomaly_settings;
DROP TABLE anomaly_alerts;
