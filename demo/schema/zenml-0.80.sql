-- ZenML 0.80.2's database schema, as ZenML's own alembic migrations leave a SQLite store.
-- Provenance: `sqlite3 zenml.db .schema` of the genuine store in
-- shared/reference/zenml-0.80-migrated-sample/local_stores/default_zen_store/ (the ZenML
-- 0.74.0 sample upgraded by ZenML's migration scripts 0.75.0 .. 0.80.2; its MIGRATION.md
-- lists them), copied verbatim: renamed tables keep SQLite's `CREATE TABLE IF NOT EXISTS
-- "name"` spelling and `project_id` is the last column where it replaced `workspace_id`.
-- The last statement is the store's alembic_version row.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE server_settings (
	id CHAR(32) NOT NULL, 
	server_name VARCHAR NOT NULL, 
	logo_url VARCHAR, 
	active BOOLEAN NOT NULL, 
	enable_analytics BOOLEAN NOT NULL, 
	display_announcements BOOLEAN, 
	display_updates BOOLEAN, 
	onboarding_state VARCHAR, 
	last_user_activity DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE auth_devices (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	client_id CHAR(32) NOT NULL, 
	user_code VARCHAR NOT NULL, 
	device_code VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	failed_auth_attempts INTEGER NOT NULL, 
	expires DATETIME, 
	last_login DATETIME, 
	trusted_device BOOLEAN NOT NULL, 
	os VARCHAR, 
	ip_address VARCHAR, 
	hostname VARCHAR, 
	python_version VARCHAR, 
	zenml_version VARCHAR, 
	city VARCHAR, 
	region VARCHAR, 
	country VARCHAR, 
	user_id CHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT fk_auth_devices_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL
);
CREATE TABLE tag_resource (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	tag_id CHAR(32) NOT NULL, 
	resource_id CHAR(32) NOT NULL, 
	resource_type VARCHAR(255) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_tag_resource_tag_id_tag FOREIGN KEY(tag_id) REFERENCES tag (id) ON DELETE CASCADE
);
CREATE TABLE stack_composition (
	stack_id CHAR(32) NOT NULL, 
	component_id CHAR(32) NOT NULL, 
	PRIMARY KEY (stack_id, component_id), 
	CONSTRAINT fk_stack_composition_stack_id_stack FOREIGN KEY(stack_id) REFERENCES stack (id) ON DELETE CASCADE, 
	CONSTRAINT fk_stack_composition_component_id_stack_component FOREIGN KEY(component_id) REFERENCES stack_component (id) ON DELETE CASCADE
);
CREATE TABLE trigger_execution (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	trigger_id CHAR(32) NOT NULL, 
	event_metadata BLOB, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_trigger_execution_trigger_id_trigger FOREIGN KEY(trigger_id) REFERENCES "trigger" (id) ON DELETE CASCADE
);
CREATE TABLE artifact_visualization (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	type VARCHAR NOT NULL, 
	uri TEXT NOT NULL, 
	artifact_version_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_artifact_visualization_artifact_version_id_artifact_version FOREIGN KEY(artifact_version_id) REFERENCES artifact_version (id) ON DELETE CASCADE
);
CREATE TABLE model_versions_artifacts (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	model_version_id CHAR(32) NOT NULL, 
	artifact_version_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_model_versions_artifacts_model_version_id_model_version FOREIGN KEY(model_version_id) REFERENCES model_version (id) ON DELETE CASCADE, 
	CONSTRAINT fk_model_versions_artifacts_artifact_version_id_artifact_version FOREIGN KEY(artifact_version_id) REFERENCES artifact_version (id) ON DELETE CASCADE
);
CREATE TABLE model_versions_runs (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	model_version_id CHAR(32) NOT NULL, 
	pipeline_run_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_model_versions_runs_model_version_id_model_version FOREIGN KEY(model_version_id) REFERENCES model_version (id) ON DELETE CASCADE, 
	CONSTRAINT fk_model_versions_runs_pipeline_run_id_pipeline_run FOREIGN KEY(pipeline_run_id) REFERENCES pipeline_run (id) ON DELETE CASCADE
);
CREATE TABLE step_run_parents (
	parent_id CHAR(32) NOT NULL, 
	child_id CHAR(32) NOT NULL, 
	PRIMARY KEY (parent_id, child_id), 
	CONSTRAINT fk_step_run_parents_parent_id_step_run FOREIGN KEY(parent_id) REFERENCES step_run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_step_run_parents_child_id_step_run FOREIGN KEY(child_id) REFERENCES step_run (id) ON DELETE CASCADE
);
CREATE TABLE step_run_input_artifact (
	name VARCHAR NOT NULL, 
	type VARCHAR NOT NULL, 
	step_id CHAR(32) NOT NULL, 
	artifact_id CHAR(32) NOT NULL, 
	PRIMARY KEY (name, step_id, artifact_id), 
	CONSTRAINT fk_step_run_input_artifact_step_id_step_run FOREIGN KEY(step_id) REFERENCES step_run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_step_run_input_artifact_artifact_id_artifact_version FOREIGN KEY(artifact_id) REFERENCES artifact_version (id) ON DELETE CASCADE
);
CREATE TABLE step_run_output_artifact (
	name VARCHAR NOT NULL, 
	step_id CHAR(32) NOT NULL, 
	artifact_id CHAR(32) NOT NULL, 
	PRIMARY KEY (step_id, artifact_id), 
	CONSTRAINT fk_step_run_output_artifact_step_id_step_run FOREIGN KEY(step_id) REFERENCES step_run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_step_run_output_artifact_artifact_id_artifact_version FOREIGN KEY(artifact_id) REFERENCES artifact_version (id) ON DELETE CASCADE
);
CREATE TABLE logs (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	uri TEXT NOT NULL, 
	pipeline_run_id CHAR(32), 
	step_run_id CHAR(32), 
	artifact_store_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_logs_pipeline_run_id_pipeline_run FOREIGN KEY(pipeline_run_id) REFERENCES pipeline_run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_logs_step_run_id_step_run FOREIGN KEY(step_run_id) REFERENCES step_run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_logs_stack_component_id_stack_component FOREIGN KEY(artifact_store_id) REFERENCES stack_component (id) ON DELETE CASCADE
);
CREATE TABLE run_metadata_resource (
	id CHAR(32) NOT NULL, 
	resource_id CHAR(32) NOT NULL, 
	resource_type VARCHAR(255) NOT NULL, 
	run_metadata_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_run_metadata_resource_run_metadata_id_run_metadata FOREIGN KEY(run_metadata_id) REFERENCES run_metadata (id) ON DELETE CASCADE
);
CREATE INDEX ix_tag_resource_resource_id_resource_type_tag_id ON tag_resource (resource_id, resource_type, tag_id);
CREATE INDEX ix_run_metadata_resource_resource_id_resource_type_run_metadata_ ON run_metadata_resource (resource_id, resource_type, run_metadata_id);
CREATE TABLE IF NOT EXISTS "api_key" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	description TEXT, 
	"key" VARCHAR NOT NULL, 
	previous_key VARCHAR, 
	retain_period INTEGER NOT NULL, 
	active BOOLEAN NOT NULL, 
	last_login DATETIME, 
	last_rotated DATETIME, 
	service_account_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_api_key_service_account_id_user FOREIGN KEY(service_account_id) REFERENCES user (id) ON DELETE CASCADE, 
	CONSTRAINT unique_api_key_name_in_service_account UNIQUE (name, service_account_id)
);
CREATE TABLE IF NOT EXISTS "flavor" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	type VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	config_schema TEXT NOT NULL, 
	integration VARCHAR, 
	connector_type VARCHAR, 
	connector_resource_type VARCHAR, 
	connector_resource_id_attr VARCHAR, 
	user_id CHAR(32), 
	logo_url VARCHAR, 
	docs_url VARCHAR, 
	sdk_docs_url VARCHAR, 
	is_custom BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_flavor_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_flavor_name_and_type UNIQUE (name, type)
);
CREATE TABLE IF NOT EXISTS "secret" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	"values" TEXT, 
	user_id CHAR(32) NOT NULL, 
	private BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_secret_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE CASCADE, 
	CONSTRAINT unique_secret_name_private_scope_user UNIQUE (name, private, user_id)
);
CREATE TABLE IF NOT EXISTS "service_connector" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	connector_type TEXT, 
	description VARCHAR NOT NULL, 
	auth_method TEXT, 
	resource_types BLOB NOT NULL, 
	resource_id TEXT, 
	supports_instances BOOLEAN NOT NULL, 
	configuration BLOB, 
	secret_id CHAR(32), 
	expires_at DATETIME, 
	expires_skew_tolerance INTEGER, 
	expiration_seconds INTEGER, 
	labels BLOB, 
	user_id CHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT fk_service_connector_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_service_connector_name UNIQUE (name)
);
CREATE TABLE IF NOT EXISTS "stack" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	stack_spec_path VARCHAR, 
	labels BLOB, 
	user_id CHAR(32), 
	description VARCHAR, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_stack_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_stack_name UNIQUE (name)
);
CREATE TABLE IF NOT EXISTS "stack_component" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	type VARCHAR NOT NULL, 
	flavor VARCHAR NOT NULL, 
	configuration BLOB NOT NULL, 
	labels BLOB, 
	user_id CHAR(32), 
	connector_id CHAR(32), 
	connector_resource_id VARCHAR, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_stack_component_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_stack_component_connector_id_service_connector FOREIGN KEY(connector_id) REFERENCES service_connector (id) ON DELETE SET NULL, 
	CONSTRAINT unique_component_name_and_type UNIQUE (name, type)
);
CREATE TABLE IF NOT EXISTS "tag" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	color VARCHAR(255) NOT NULL, 
	user_id CHAR(32), 
	"exclusive" BOOLEAN DEFAULT (0) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT unique_tag_name UNIQUE (name), 
	CONSTRAINT fk_tag_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL
);
CREATE TABLE project (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	display_name VARCHAR NOT NULL, 
	description VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT unique_project_name UNIQUE (name)
);
CREATE TABLE IF NOT EXISTS "action" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	service_account_id CHAR(32) NOT NULL, 
	auth_window INTEGER NOT NULL, 
	flavor VARCHAR NOT NULL, 
	plugin_subtype VARCHAR NOT NULL, 
	description TEXT, 
	configuration BLOB NOT NULL, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_action_service_account_id_user FOREIGN KEY(service_account_id) REFERENCES user (id) ON DELETE CASCADE, 
	CONSTRAINT fk_action_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_action_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_action_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "artifact" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	has_custom_name BOOLEAN NOT NULL, 
	user_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_artifact_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_artifact_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_artifact_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "artifact_version" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	version VARCHAR NOT NULL, 
	version_number INTEGER, 
	type VARCHAR NOT NULL, 
	uri TEXT NOT NULL, 
	materializer TEXT NOT NULL, 
	data_type TEXT NOT NULL, 
	save_type TEXT NOT NULL, 
	artifact_id CHAR(32) NOT NULL, 
	artifact_store_id CHAR(32), 
	user_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT unique_version_for_artifact_id UNIQUE (version, artifact_id), 
	CONSTRAINT fk_artifact_version_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_artifact_version_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_version_artifact_store_id_stack_component FOREIGN KEY(artifact_store_id) REFERENCES stack_component (id) ON DELETE SET NULL, 
	CONSTRAINT fk_artifact_version_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "code_reference" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	code_repository_id CHAR(32) NOT NULL, 
	"commit" VARCHAR NOT NULL, 
	subdirectory VARCHAR NOT NULL, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_code_reference_code_repository_id_code_repository FOREIGN KEY(code_repository_id) REFERENCES code_repository (id) ON DELETE CASCADE, 
	CONSTRAINT fk_code_reference_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "code_repository" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	config TEXT NOT NULL, 
	source TEXT NOT NULL, 
	logo_url VARCHAR, 
	description TEXT, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_code_repository_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_code_repository_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_code_repository_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "event_source" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	flavor VARCHAR NOT NULL, 
	plugin_subtype VARCHAR NOT NULL, 
	description TEXT, 
	configuration BLOB NOT NULL, 
	is_active BOOLEAN NOT NULL, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_event_source_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_event_source_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_event_source_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "model" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	license TEXT, 
	description TEXT, 
	audience TEXT, 
	use_cases TEXT, 
	limitations TEXT, 
	trade_offs TEXT, 
	ethics TEXT, 
	save_models_to_registry BOOLEAN NOT NULL, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_model_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_model_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_model_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "model_version" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	model_id CHAR(32) NOT NULL, 
	number INTEGER NOT NULL, 
	description TEXT, 
	stage TEXT, 
	producer_run_id_if_numeric CHAR(32) NOT NULL, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT unique_version_for_model_id UNIQUE (name, model_id), 
	CONSTRAINT unique_version_number_for_model_id UNIQUE (number, model_id), 
	CONSTRAINT unique_numeric_version_for_pipeline_run UNIQUE (model_id, producer_run_id_if_numeric), 
	CONSTRAINT fk_model_version_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_model_version_model_id_model FOREIGN KEY(model_id) REFERENCES model (id) ON DELETE CASCADE, 
	CONSTRAINT fk_model_version_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "pipeline" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	description TEXT, 
	user_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_pipeline_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_pipeline_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_pipeline_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "pipeline_build" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	user_id CHAR(32), 
	stack_id CHAR(32), 
	pipeline_id CHAR(32), 
	images VARCHAR(16777215) NOT NULL, 
	is_local BOOLEAN NOT NULL, 
	contains_code BOOLEAN NOT NULL, 
	zenml_version VARCHAR, 
	python_version VARCHAR, 
	checksum VARCHAR, 
	stack_checksum VARCHAR, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_pipeline_build_stack_id_stack FOREIGN KEY(stack_id) REFERENCES stack (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_build_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_build_pipeline_id_pipeline FOREIGN KEY(pipeline_id) REFERENCES pipeline (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_build_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "pipeline_deployment" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	pipeline_configuration VARCHAR(16777215) NOT NULL, 
	step_configurations VARCHAR(16777215) NOT NULL, 
	client_environment TEXT NOT NULL, 
	run_name_template VARCHAR NOT NULL, 
	client_version VARCHAR, 
	server_version VARCHAR, 
	pipeline_version_hash VARCHAR, 
	pipeline_spec VARCHAR(16777215), 
	code_path VARCHAR, 
	user_id CHAR(32), 
	stack_id CHAR(32), 
	pipeline_id CHAR(32), 
	schedule_id CHAR(32), 
	build_id CHAR(32), 
	code_reference_id CHAR(32), 
	template_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_pipeline_deployment_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_deployment_code_reference_id_code_reference FOREIGN KEY(code_reference_id) REFERENCES code_reference (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_deployment_build_id_pipeline_build FOREIGN KEY(build_id) REFERENCES pipeline_build (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_deployment_stack_id_stack FOREIGN KEY(stack_id) REFERENCES stack (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_deployment_pipeline_id_pipeline FOREIGN KEY(pipeline_id) REFERENCES pipeline (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_deployment_schedule_id_schedule FOREIGN KEY(schedule_id) REFERENCES schedule (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_deployment_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "pipeline_run" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	orchestrator_run_id VARCHAR, 
	start_time DATETIME, 
	end_time DATETIME, 
	status VARCHAR NOT NULL, 
	orchestrator_environment TEXT, 
	deployment_id CHAR(32), 
	user_id CHAR(32), 
	pipeline_id CHAR(32), 
	model_version_id CHAR(32), 
	pipeline_configuration TEXT, 
	client_environment TEXT, 
	stack_id CHAR(32), 
	build_id CHAR(32), 
	schedule_id CHAR(32), 
	trigger_execution_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_pipeline_run_pipeline_id_pipeline FOREIGN KEY(pipeline_id) REFERENCES pipeline (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_run_model_version_id_model_version FOREIGN KEY(model_version_id) REFERENCES model_version (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_run_schedule_id_schedule FOREIGN KEY(schedule_id) REFERENCES schedule (id) ON DELETE SET NULL, 
	CONSTRAINT unique_orchestrator_run_id_for_deployment_id UNIQUE (deployment_id, orchestrator_run_id), 
	CONSTRAINT fk_pipeline_run_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_run_deployment_id_pipeline_deployment FOREIGN KEY(deployment_id) REFERENCES pipeline_deployment (id) ON DELETE CASCADE, 
	CONSTRAINT fk_pipeline_run_build_id_pipeline_build FOREIGN KEY(build_id) REFERENCES pipeline_build (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_run_trigger_execution_id_trigger_execution FOREIGN KEY(trigger_execution_id) REFERENCES trigger_execution (id) ON DELETE SET NULL, 
	CONSTRAINT fk_pipeline_run_stack_id_stack FOREIGN KEY(stack_id) REFERENCES stack (id) ON DELETE SET NULL, 
	CONSTRAINT unique_run_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_pipeline_run_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "run_metadata" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	stack_component_id CHAR(32), 
	user_id CHAR(32), 
	"key" VARCHAR NOT NULL, 
	value TEXT NOT NULL, 
	type VARCHAR NOT NULL, 
	publisher_step_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_run_metadata_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_run_metadata_publisher_step_id_step_run FOREIGN KEY(publisher_step_id) REFERENCES step_run (id) ON DELETE SET NULL, 
	CONSTRAINT fk_run_metadata_stack_component_id_stack_component FOREIGN KEY(stack_component_id) REFERENCES stack_component (id) ON DELETE SET NULL, 
	CONSTRAINT fk_run_metadata_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "schedule" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	pipeline_id CHAR(32), 
	orchestrator_id CHAR(32), 
	active BOOLEAN NOT NULL, 
	cron_expression VARCHAR, 
	start_time DATETIME, 
	end_time DATETIME, 
	interval_second FLOAT, 
	catchup BOOLEAN NOT NULL, 
	run_once_start_time DATETIME, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_schedule_pipeline_id_pipeline FOREIGN KEY(pipeline_id) REFERENCES pipeline (id) ON DELETE CASCADE, 
	CONSTRAINT fk_schedule_orchestrator_id_stack_component FOREIGN KEY(orchestrator_id) REFERENCES stack_component (id) ON DELETE SET NULL, 
	CONSTRAINT fk_schedule_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT unique_schedule_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_schedule_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "service" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	service_source TEXT, 
	service_type TEXT NOT NULL, 
	type TEXT NOT NULL, 
	flavor TEXT NOT NULL, 
	admin_state TEXT, 
	state TEXT, 
	labels BLOB, 
	config BLOB NOT NULL, 
	status BLOB, 
	endpoint BLOB, 
	prediction_url TEXT, 
	health_check_url TEXT, 
	pipeline_name TEXT, 
	pipeline_step_name TEXT, 
	model_version_id CHAR(32), 
	pipeline_run_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_service_model_version_id_model_version FOREIGN KEY(model_version_id) REFERENCES model_version (id) ON DELETE SET NULL, 
	CONSTRAINT fk_service_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_service_pipeline_run_id_pipeline_run FOREIGN KEY(pipeline_run_id) REFERENCES pipeline_run (id) ON DELETE SET NULL, 
	CONSTRAINT fk_service_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "step_run" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	start_time DATETIME, 
	end_time DATETIME, 
	status VARCHAR NOT NULL, 
	docstring TEXT, 
	cache_key VARCHAR, 
	source_code TEXT, 
	code_hash VARCHAR, 
	step_configuration VARCHAR(16777215), 
	original_step_run_id CHAR(32), 
	deployment_id CHAR(32), 
	pipeline_run_id CHAR(32) NOT NULL, 
	user_id CHAR(32), 
	model_version_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_step_run_pipeline_run_id_pipeline_run FOREIGN KEY(pipeline_run_id) REFERENCES pipeline_run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_step_run_model_version_id_model_version FOREIGN KEY(model_version_id) REFERENCES model_version (id) ON DELETE SET NULL, 
	CONSTRAINT fk_step_run_original_step_run_id_step_run FOREIGN KEY(original_step_run_id) REFERENCES step_run (id) ON DELETE SET NULL, 
	CONSTRAINT unique_step_name_for_pipeline_run UNIQUE (name, pipeline_run_id), 
	CONSTRAINT fk_step_run_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_step_run_deployment_id_pipeline_deployment FOREIGN KEY(deployment_id) REFERENCES pipeline_deployment (id) ON DELETE CASCADE, 
	CONSTRAINT fk_step_run_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "trigger" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	user_id CHAR(32), 
	event_source_id CHAR(32), 
	action_id CHAR(32) NOT NULL, 
	event_filter BLOB NOT NULL, 
	schedule BLOB, 
	description TEXT, 
	is_active BOOLEAN NOT NULL, 
	project_id CHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_trigger_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_trigger_event_source_id_event_source FOREIGN KEY(event_source_id) REFERENCES event_source (id) ON DELETE SET NULL, 
	CONSTRAINT fk_trigger_action_id_action FOREIGN KEY(action_id) REFERENCES action (id) ON DELETE CASCADE, 
	CONSTRAINT unique_trigger_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_trigger_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "user" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	is_service_account BOOLEAN NOT NULL, 
	full_name VARCHAR NOT NULL, 
	description TEXT, 
	email VARCHAR, 
	active BOOLEAN NOT NULL, 
	password VARCHAR, 
	activation_token VARCHAR, 
	email_opted_in BOOLEAN, 
	external_user_id CHAR(32), 
	is_admin BOOLEAN NOT NULL, 
	user_metadata VARCHAR, 
	default_project_id CHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT fk_user_default_project_id_project FOREIGN KEY(default_project_id) REFERENCES project (id) ON DELETE SET NULL, 
	UNIQUE (name, is_service_account)
);
CREATE TABLE IF NOT EXISTS "run_template" (
	id CHAR(32) NOT NULL, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	name VARCHAR NOT NULL, 
	description VARCHAR(16777215), 
	user_id CHAR(32), 
	source_deployment_id CHAR(32), 
	project_id CHAR(32) NOT NULL, 
	hidden BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT unique_template_name_in_project UNIQUE (name, project_id), 
	CONSTRAINT fk_run_template_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE SET NULL, 
	CONSTRAINT fk_run_template_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_template_source_deployment_id_pipeline_deployment FOREIGN KEY(source_deployment_id) REFERENCES pipeline_deployment (id) ON DELETE SET NULL
);
INSERT INTO alembic_version (version_num) VALUES ('0.80.2');
