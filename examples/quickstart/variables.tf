variable "server_id" {
  description = "Id of the cloud phone server. The default is the first server of cph-emulator."
  type        = string
  default     = "a176d8625981453bbafbc0a321d8d6a1"
}

variable "server_model_name" {
  description = "Target server flavor (same generation as the current one)."
  type        = string
  default     = "physical.rx1.xlarge.special"
}

variable "phone_model_name" {
  description = "Target phone flavor (same phone count per server as the current one)."
  type        = string
  default     = "rx1.cp.sp.c105.d8.e5v5"
}

variable "traffic_type" {
  description = "Route of every phone of the server: direct or routing."
  type        = string
  default     = "routing"

  validation {
    condition     = contains(["direct", "routing"], var.traffic_type)
    error_message = "The traffic_type must be \"direct\" or \"routing\"."
  }
}
