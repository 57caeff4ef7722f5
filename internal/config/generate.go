package config

//go:generate go run ./readmegen ../../README.md
